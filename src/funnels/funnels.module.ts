import { Module } from '@nestjs/common';
import { DomainEventsModule } from '../domain-events/domain-events.module.js';
import { FormsModule } from '../forms/forms.module.js';
import { FunnelContactsController } from './funnel-contacts.controller.js';
import { FunnelContactsRepository } from './funnel-contacts.repository.js';
import { FunnelContactsService } from './funnel-contacts.service.js';
import { FunnelEngineRepository } from './funnel-engine.repository.js';
import { FunnelEngineService } from './funnel-engine.service.js';
import { FunnelReportRepository } from './funnel-report.repository.js';
import { FunnelReportService } from './funnel-report.service.js';
import { FunnelRulesCache } from './funnel-rules.cache.js';
import { FunnelsController } from './funnels.controller.js';
import { FunnelsRepository } from './funnels.repository.js';
import { FunnelsService } from './funnels.service.js';

@Module({
  imports: [DomainEventsModule, FormsModule],
  controllers: [FunnelsController, FunnelContactsController],
  providers: [
    FunnelsRepository,
    FunnelsService,
    FunnelContactsRepository,
    FunnelContactsService,
    FunnelReportRepository,
    FunnelReportService,
    FunnelEngineRepository,
    FunnelRulesCache,
    FunnelEngineService,
  ],
  // The engine is what benchmarks drive (evaluateWorkspace).
  exports: [FunnelEngineService],
})
export class FunnelsModule {}
