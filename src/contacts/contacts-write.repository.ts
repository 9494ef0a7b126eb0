import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ContactInput } from './contact.types.js';
import { PG_ERROR, pgErrorCode } from '../database/pg-errors.js';
import { contactUpsertParams, UPSERT_CONTACT_SQL } from './contact-upsert.statement.js';

export interface ConsentRecord {
  contactId: string;
  channel: 'email' | 'sms';
  status: 'granted' | 'pending' | 'confirmed' | 'withdrawn';
  source: 'form' | 'import' | 'api' | 'double_opt_in' | 'unsubscribe';
  formId?: string | null;
  formVersion?: number | null;
  submissionId?: string | null;
  wording?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export interface UpsertedContact {
  id: string;
  created: boolean;
  addedTags: string[];
}

/**
 * Contact writes inside the caller's transaction: the upsert as its own statement (imports), the
 * consent ledger. Public submissions run the same upsert inside one statement of their own instead.
 */
@Injectable()
export class ContactsWriteRepository {
  /**
   * Returns the contact id, whether it was created, and which of the given tags it did not have before
   * (for tag.added events). Retries once when a concurrent insert won.
   */
  async upsert(em: EntityManager, workspaceId: string, c: ContactInput): Promise<UpsertedContact> {
    for (let attempt = 0; ; attempt++) {
      try {
        await em.query('SAVEPOINT contact_upsert');
        const result = await this.upsertOnce(em, workspaceId, c);
        await em.query('RELEASE SAVEPOINT contact_upsert');
        return result;
      } catch (err) {
        await em.query('ROLLBACK TO SAVEPOINT contact_upsert');
        if (pgErrorCode(err) !== PG_ERROR.uniqueViolation || attempt >= 2) throw err;
      }
    }
  }

  private async upsertOnce(em: EntityManager, workspaceId: string, c: ContactInput): Promise<UpsertedContact> {
    const rows = await em.query<UpsertedContact[]>(UPSERT_CONTACT_SQL, contactUpsertParams(workspaceId, c));
    return rows[0];
  }

  async insertConsents(em: EntityManager, workspaceId: string, records: ConsentRecord[]): Promise<void> {
    if (records.length === 0) return;
    await em.query(
      `INSERT INTO consents (workspace_id, contact_id, channel, status, source, form_id, form_version, submission_id, wording, ip, user_agent)
       SELECT $1, r.contact_id, r.channel, r.status, r.source, r.form_id, r.form_version, r.submission_id, r.wording, r.ip, r.user_agent
         FROM jsonb_to_recordset($2::jsonb) AS r(contact_id uuid, channel text, status text, source text, form_id uuid,
              form_version int, submission_id uuid, wording text, ip inet, user_agent text)`,
      [
        workspaceId,
        JSON.stringify(
          records.map((r) => ({
            contact_id: r.contactId,
            channel: r.channel,
            status: r.status,
            source: r.source,
            form_id: r.formId ?? null,
            form_version: r.formVersion ?? null,
            submission_id: r.submissionId ?? null,
            wording: r.wording ?? null,
            ip: r.ip ?? null,
            user_agent: r.userAgent ?? null,
          })),
        ),
      ],
    );
  }
}
