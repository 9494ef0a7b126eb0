import type { ContactInput } from './contact.types.js';

/**
 * The contact upsert as three CTEs (`found`, `updated`, `inserted`) over parameters $1-$10 (see
 * contactUpsertParams): the standalone upsert below and the public submission's single statement
 * (SubmissionsRepository) both build on it. Dedupes by email, then phone, within the workspace, and
 * never replaces a known value with an empty one.
 *
 * Each lookup is one probe of its own unique index, whatever the parameters: the submission runs as
 * a prepared statement, whose generic plan must not depend on which of email and phone is given (an
 * OR of the two once planned as a scan of the whole workspace).
 */
export const CONTACT_UPSERT_CTES = `found AS (
         SELECT id, tags AS previous_tags FROM contacts
          WHERE id = COALESCE((SELECT id FROM contacts WHERE workspace_id = $1 AND email = $2::text),
                              (SELECT id FROM contacts WHERE workspace_id = $1 AND phone = $3::text))
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
       )`;

// Exported for the bench baseline, which must send exactly this statement.
export const UPSERT_CONTACT_SQL = `WITH ${CONTACT_UPSERT_CTES}
       SELECT id, created, added_tags AS "addedTags" FROM updated UNION ALL SELECT id, created, added_tags FROM inserted`;

/** $1-$10 of CONTACT_UPSERT_CTES. */
export function contactUpsertParams(workspaceId: string, c: ContactInput): unknown[] {
  return [
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
  ];
}
