import { Global, Module } from '@nestjs/common';
import { RateLimitRepository } from './rate-limit.repository.js';
import { RateLimitService } from './rate-limit.service.js';

@Global()
@Module({ providers: [RateLimitRepository, RateLimitService], exports: [RateLimitService, RateLimitRepository] })
export class CommonModule {}
