import { Global, Module } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency.repository.js';
import { RateLimitRepository } from './rate-limit.repository.js';
import { RateLimitService } from './rate-limit.service.js';

@Global()
@Module({
  providers: [RateLimitRepository, RateLimitService, IdempotencyRepository],
  exports: [RateLimitService, RateLimitRepository, IdempotencyRepository],
})
export class CommonModule {}
