import { Module } from '@nestjs/common';
import { DomainEventsRepository } from './domain-events.repository.js';
import { DomainEventsService } from './domain-events.service.js';

@Module({ providers: [DomainEventsRepository, DomainEventsService], exports: [DomainEventsService] })
export class DomainEventsModule {}
