import { Module } from '@nestjs/common';
import { DomainEventsModule } from '../domain-events/domain-events.module.js';
import { EventPartitionsRepository } from './event-partitions.repository.js';
import { EventPartitionsService } from './event-partitions.service.js';
import { EventsController } from './events.controller.js';
import { EventsRepository } from './events.repository.js';
import { EventsService } from './events.service.js';

@Module({
  imports: [DomainEventsModule],
  controllers: [EventsController],
  providers: [EventsRepository, EventsService, EventPartitionsRepository, EventPartitionsService],
  exports: [EventPartitionsService],
})
export class TrackingModule {}
