import { Injectable, Logger } from '@nestjs/common';
import { RateLimitRepository } from '../common/rate-limit.repository.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';

// Longest rate-limit window we use is an hour; a day keeps every live window.
const RATE_LIMIT_RETENTION_SECONDS = 86_400;

/** Deletes what has expired: refresh tokens past their life and stale rate-limit windows. */
@Injectable()
export class AuthMaintenance {
  private readonly logger = new Logger('Maintenance');

  constructor(
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly rateLimits: RateLimitRepository,
  ) {}

  @OnJob('maintenance-purge-expired')
  async purgeExpired(): Promise<void> {
    const tokens = await this.refreshTokens.purgeExpired();
    const windows = await this.rateLimits.purgeExpired(RATE_LIMIT_RETENTION_SECONDS);
    if (tokens + windows > 0) this.logger.log({ tokens, windows }, 'purged expired rows');
  }
}
