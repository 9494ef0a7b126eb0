import { Logger } from '@nestjs/common';
import type { EmailMessage, EmailTransport } from './email-transport.js';

/**
 * The development default: nothing leaves the machine. The message is kept in the messages table
 * (by EmailService) and its text, links included, goes to the log so a developer can follow them.
 */
export class LogEmailTransport implements EmailTransport {
  readonly name = 'log';
  private readonly logger = new Logger('Email');

  async send(message: EmailMessage): Promise<string | null> {
    this.logger.log(`email to ${message.to}: ${message.subject}\n${message.text}`);
    return null;
  }
}
