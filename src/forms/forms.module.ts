import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ContactsModule } from '../contacts/contacts.module.js';
import { MessagingModule } from '../messaging/messaging.module.js';
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
  imports: [TypeOrmModule.forFeature([FormEntity]), ContactsModule, MessagingModule],
  controllers: [FormsController, PublicFormsController, EmbedController, HostedPageController],
  providers: [FormsRepository, FormsService, SubmissionsRepository, SubmissionsService, ConfirmationsRepository, ConfirmationsService],
  exports: [FormsRepository],
})
export class FormsModule {}
