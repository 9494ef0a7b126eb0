import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { generateToken, hashToken } from '../common/secret-token.js';
import { AppConfig } from '../config/app-config.js';
import { ContactsWriteRepository } from '../contacts/contacts-write.repository.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { EmailService } from '../messaging/email.service.js';
import { ConfirmationsRepository } from './confirmations.repository.js';
import { FormErrorCode, FormException } from './forms.exception.js';
import { escapeText } from './html.js';
import { SubmissionsRepository } from './submissions.repository.js';

/** Double opt-in: the confirmation email (a job) and the link that confirms. */
@Injectable()
export class ConfirmationsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly submissions: SubmissionsRepository,
    private readonly confirmations: ConfirmationsRepository,
    private readonly contacts: ContactsWriteRepository,
    private readonly email: EmailService,
    private readonly domainEvents: DomainEventsService,
  ) {}

  /** Re-reads everything: a retry after a provider outage, or a confirmation in between, is harmless. */
  @OnJob('forms-send-confirmation')
  async sendConfirmation({ submissionId }: { submissionId: string }): Promise<void> {
    const s = await this.submissions.findForConfirmation(submissionId);
    if (!s || !s.contactId || !s.email || s.alreadyConfirmed) return;
    const token = generateToken('cf_');
    await this.confirmations.insert({
      tokenHash: hashToken(token),
      workspaceId: s.workspaceId,
      contactId: s.contactId,
      submissionId,
      expiresAt: new Date(Date.now() + this.config.CONFIRMATION_TTL_HOURS * 3600_000),
    });
    const link = `${this.config.PUBLIC_URL.replace(/\/$/, '')}/v1/public/confirm/${token}`;
    const hello = s.firstName ? `Hi ${s.firstName},` : 'Hi,';
    await this.email.send({
      workspaceId: s.workspaceId,
      contactId: s.contactId,
      kind: 'double_opt_in',
      dedupeKey: `double_opt_in:${submissionId}`,
      to: s.email,
      subject: `Please confirm your subscription: ${s.title}`,
      text: `${hello}\n\nPlease confirm that you want to hear from us (${s.title}) by opening this link:\n${link}\n\nIf you did not sign up, ignore this email.`,
      html:
        `<p>${escapeText(hello)}</p><p>Please confirm that you want to hear from us (${escapeText(s.title)}).</p>` +
        `<p><a href="${escapeText(link)}">Confirm my subscription</a></p><p>If you did not sign up, ignore this email.</p>`,
    });
  }

  /** Confirms once; the confirmation joins the consent ledger with where it came from. */
  async confirm(token: string, meta: { ip: string; userAgent: string | null }): Promise<void> {
    const tokenHash = hashToken(token);
    await this.ds.transaction(async (em) => {
      const row = await this.confirmations.findForUpdate(em, tokenHash);
      if (!row || row.expiresAt <= new Date()) {
        throw new FormException(HttpStatus.NOT_FOUND, FormErrorCode.TokenInvalid, 'This confirmation link is unknown or has expired. Sign up again to get a new one.');
      }
      if (row.confirmedAt) return;
      await this.confirmations.confirm(em, tokenHash, row);
      await this.contacts.insertConsents(em, row.workspaceId, [
        {
          contactId: row.contactId,
          channel: 'email',
          status: 'confirmed',
          source: 'double_opt_in',
          formId: row.formId,
          formVersion: row.formVersion,
          submissionId: row.submissionId,
          ip: meta.ip,
          userAgent: meta.userAgent,
        },
      ]);
      // Keyed by submission: a second token of the same signup confirms nothing new.
      await this.domainEvents.record(em, row.workspaceId, [
        {
          type: 'contact.confirmed',
          contactId: row.contactId,
          properties: { formId: row.formId, submissionId: row.submissionId },
          dedupeKey: `confirmation:${row.submissionId ?? tokenHash}`,
        },
      ]);
    });
  }
}
