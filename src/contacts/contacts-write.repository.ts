import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ContactInput } from './contact.types.js';

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

const UNIQUE_VIOLATION = '23505';

export interface UpsertedContact {
  id: string;
  created: boolean;
  addedTags: string[];
}

/**
 * The writes shared by submissions and imports, always inside the caller's transaction. The upsert
 * dedupes by email, then phone, within the workspace, and never replaces a known value with an empty one.
 */
// Exported for the bench baseline, which must send exactly this statement.
export const UPSERT_CONTACT_SQL = `WITH found AS (
         SELECT id, tags AS previous_tags FROM contacts
          WHERE workspace_id = $1 AND (($2::text IS NOT NULL AND email = $2) OR ($3::text IS NOT NULL AND phone = $3))
          ORDER BY (email IS NOT DISTINCT FROM $2) DESC
          LIMIT 1
          FOR UPDATE
       ), updated AS (
         UPDATE contacts c SET
           email = COALESCE(c.email, $2),
           phone = COALESCE(c.phone, $3),
           first_name = COALESCE($4, c.first_name),
           last_name = COALESCE($5, c.last_name),
           attributes = c.attributes || $6::jsonb,
           tags = ARRAY(SELECT DISTINCT t FROM unnest(c.tags || $7::text[]) AS t ORDER BY t),
           email_status = CASE WHEN $9::text IS NULL THEN c.email_status
                               WHEN $9 = 'pending' AND c.email_status = 'subscribed' THEN 'subscribed'
                               ELSE $9 END,
           sms_status = CASE WHEN $10::text IS NULL THEN c.sms_status
                             WHEN $10 = 'pending' AND c.sms_status = 'subscribed' THEN 'subscribed'
                             ELSE $10 END,
           first_touch = COALESCE(c.first_touch, $8::jsonb),
           last_touch = COALESCE($8::jsonb, c.last_touch),
           first_channel = COALESCE(c.first_channel, $8::jsonb->>'channel'),
           last_channel = COALESCE($8::jsonb->>'channel', c.last_channel),
           updated_at = now()
          FROM found WHERE c.id = found.id
          RETURNING c.id, false AS created, ARRAY(SELECT DISTINCT t FROM unnest($7::text[]) AS t WHERE t <> ALL(found.previous_tags) ORDER BY t) AS added_tags
       ), inserted AS (
         INSERT INTO contacts (workspace_id, email, phone, first_name, last_name, attributes, tags,
                               email_status, sms_status, first_touch, last_touch, first_channel, last_channel)
         SELECT $1, $2, $3, $4, $5, $6::jsonb, ARRAY(SELECT DISTINCT t FROM unnest($7::text[]) AS t ORDER BY t),
                COALESCE($9, 'none'), COALESCE($10, 'none'), $8::jsonb, $8::jsonb, $8::jsonb->>'channel', $8::jsonb->>'channel'
          WHERE NOT EXISTS (SELECT 1 FROM found)
         RETURNING id, true AS created, tags AS added_tags
       )
       SELECT id, created, added_tags AS "addedTags" FROM updated UNION ALL SELECT id, created, added_tags FROM inserted`;

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
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 2) throw err;
      }
    }
  }

  private async upsertOnce(em: EntityManager, workspaceId: string, c: ContactInput): Promise<UpsertedContact> {
    const rows = await em.query<UpsertedContact[]>(
      UPSERT_CONTACT_SQL,
      [
        workspaceId,
        c.email,
        c.phone,
        c.firstName,
        c.lastName,
        JSON.stringify(c.attributes),
        c.tags,
        c.touch ? JSON.stringify(c.touch) : null,
        c.emailConsent,
        c.smsConsent,
      ],
    );
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

  /** Links an anonymous id to the contact and stitches that visitor's earlier events to it. */
  async linkAnonymous(em: EntityManager, workspaceId: string, anonymousId: string, contactId: string): Promise<void> {
    await em.query(
      `WITH link AS (
         INSERT INTO contact_identities (workspace_id, anonymous_id, contact_id) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id, anonymous_id) DO UPDATE SET contact_id = EXCLUDED.contact_id
       )
       UPDATE events SET contact_id = $3 WHERE workspace_id = $1 AND anonymous_id = $2 AND contact_id IS NULL`,
      [workspaceId, anonymousId, contactId],
    );
  }
}
