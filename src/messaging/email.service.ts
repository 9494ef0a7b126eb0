import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { EMAIL_TRANSPORT, type EmailTransport } from './email-transport.js';
import { MessagesRepository } from './messages.repository.js';

export interface OutgoingEmail {
  workspaceId: string;
  contactId: string | null;
  kind: string;
  // Same key, same workspace: sent at most once.
  dedupeKey: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends through the configured transport and keeps every message in the ledger. */
@Injectable()
export class EmailService {
  constructor(
    private readonly config: AppConfig,
    @Inject(EMAIL_TRANSPORT) private readonly transport: EmailTransport,
    private readonly messages: MessagesRepository,
  ) {}

  /** 'skipped' when this dedupe key was already sent. A provider failure is recorded and rethrown (the job retries). */
  async send(email: OutgoingEmail): Promise<'sent' | 'skipped'> {
    const id = await this.messages.claim({
      workspaceId: email.workspaceId,
      contactId: email.contactId,
      channel: 'email',
      kind: email.kind,
      dedupeKey: email.dedupeKey,
      recipient: email.to,
      subject: email.subject,
      body: email.text,
    });
    if (!id) return 'skipped';
    try {
      const providerId = await this.transport.send({ to: email.to, from: this.config.EMAIL_FROM, subject: email.subject, text: email.text, html: email.html });
      await this.messages.markSent(id, this.transport.name, providerId);
      return 'sent';
    } catch (err) {
      await this.messages.markFailed(id, this.transport.name, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }
}
