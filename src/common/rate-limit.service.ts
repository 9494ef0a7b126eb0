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

  /** Counts a hit against each limit; throws 429 with Retry-After when any is exceeded. */
  async consume(...limits: Limit[]): Promise<void> {
    const results = await Promise.all(limits.map((l) => this.repo.hit(l.key, l.windowSeconds)));
    const exceeded = results.map((r, i) => ({ ...r, max: limits[i].max })).filter((r) => r.hits > r.max);
    if (exceeded.length > 0) throw new RateLimitedException(Math.max(...exceeded.map((r) => r.resetInSeconds)));
  }
}
