import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { EMAIL_TRANSPORT, type EmailTransport } from './email-transport.js';
import { EmailService } from './email.service.js';
import { LogEmailTransport } from './log-email.transport.js';
import { MessagesRepository } from './messages.repository.js';
import { SendgridEmailTransport } from './sendgrid-email.transport.js';

@Module({
  providers: [
    MessagesRepository,
    EmailService,
    {
      provide: EMAIL_TRANSPORT,
      inject: [AppConfig],
      useFactory: (config: AppConfig): EmailTransport =>
        config.EMAIL_TRANSPORT === 'sendgrid'
          ? new SendgridEmailTransport(config.SENDGRID_API_KEY as string, config.SENDGRID_API_URL)
          : new LogEmailTransport(),
    },
  ],
  exports: [EmailService],
})
export class MessagingModule {}
