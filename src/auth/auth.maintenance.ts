import { Injectable, Logger } from '@nestjs/common';
import { IDEMPOTENCY_RETENTION_SECONDS } from '../common/idempotency.interceptor.js';
import { IdempotencyRepository } from '../common/idempotency.repository.js';
import { RateLimitRepository } from '../common/rate-limit.repository.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';

// Longest rate-limit window we use is an hour; a day keeps every live window.
const RATE_LIMIT_RETENTION_SECONDS = 86_400;

/**
 * Deletes what has expired: refresh tokens past their life, stale rate-limit windows and the answers
 * kept for Idempotency-Key retries after their day.
 */
@Injectable()
export class AuthMaintenance {
  private readonly logger = new Logger('Maintenance');

  constructor(
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly rateLimits: RateLimitRepository,
    private readonly idempotentRequests: IdempotencyRepository,
  ) {}

  @OnJob('maintenance-purge-expired')
  async purgeExpired(): Promise<void> {
    const tokens = await this.refreshTokens.purgeExpired();
    const windows = await this.rateLimits.purgeExpired(RATE_LIMIT_RETENTION_SECONDS);
    const idempotentAnswers = await this.idempotentRequests.purgeExpired(IDEMPOTENCY_RETENTION_SECONDS);
    if (tokens + windows + idempotentAnswers > 0) this.logger.log({ tokens, windows, idempotentAnswers }, 'purged expired rows');
  }
}
