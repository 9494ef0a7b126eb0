import { Injectable } from '@nestjs/common';
import { RateLimitedException } from './problem.js';
import { RateLimitRepository } from './rate-limit.repository.js';

export interface Limit {
  key: string;
  max: number;
  windowSeconds: number;
}

/** Fixed-window limits shared by every API instance (the counters live in PostgreSQL). */
@Injectable()
export class RateLimitService {
  constructor(private readonly repo: RateLimitRepository) {}

  /**
   * Counts a hit against each limit; throws 429 with Retry-After when any is exceeded. Limits sharing
   * a window (the usual case) cost one statement together.
   */
  async consume(...limits: Limit[]): Promise<void> {
    const windows = [...new Set(limits.map((l) => l.windowSeconds))];
    const counted = (
      await Promise.all(windows.map((w) => this.repo.hit(limits.filter((l) => l.windowSeconds === w).map((l) => l.key), w)))
    ).flat();
    const max = new Map(limits.map((l) => [l.key, l.max]));
    const exceeded = counted.filter((c) => c.hits > (max.get(c.key) ?? Infinity));
    if (exceeded.length > 0) throw new RateLimitedException(Math.max(...exceeded.map((c) => c.resetInSeconds)));
  }
}
