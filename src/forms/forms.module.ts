import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ContactsModule } from '../contacts/contacts.module.js';
import { DomainEventsModule } from '../domain-events/domain-events.module.js';
import { MessagingModule } from '../messaging/messaging.module.js';
import { ActiveFormsCache } from './active-forms.cache.js';
import { ConfirmationsRepository } from './confirmations.repository.js';
import { ConfirmationsService } from './confirmations.service.js';
import { EmbedController } from './embed.controller.js';
import { FormEntity } from './form.entity.js';
import { FormsController } from './forms.controller.js';
import { FormsRepository } from './forms.repository.js';
import { FormsService } from './forms.service.js';
import { HostedPageController } from './hosted-page.controller.js';
import { PublicFormsController } from './public-forms.controller.js';
import { SubmissionsRepository } from './submissions.repository.js';
import { SubmissionsService } from './submissions.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([FormEntity]), ContactsModule, MessagingModule, DomainEventsModule],
  controllers: [FormsController, PublicFormsController, EmbedController, HostedPageController],
  providers: [FormsRepository, ActiveFormsCache, FormsService, SubmissionsRepository, SubmissionsService, ConfirmationsRepository, ConfirmationsService],
  exports: [FormsRepository, ActiveFormsCache],
})
export class FormsModule {}
