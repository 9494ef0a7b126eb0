import type { ContactInput } from '../contacts/contact.types.js';
import { CONTACT_UPSERT_CTES, contactUpsertParams } from '../contacts/contact-upsert.statement.js';
import { prepared, type PreparedStatement } from '../database/prepared.js';
import { classifyChannel, type Touch } from '../tracking/attribution.js';
import type { SentContext } from '../tracking/touch-context.js';
import type { NormalisedSubmission } from './form-definition.js';

export interface NewSubmission {
  workspaceId: string;
  formId: string;
  formVersion: number;
  contact: ContactInput;
  values: Record<string, unknown>;
  context: Record<string, unknown>;
  channel: string;
  ip: string | null;
  userAgent: string | null;
  status: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  // The consent ledger rows: what was shown and what became of it.
  consents: { channel: 'email' | 'sms'; status: 'granted' | 'pending'; wording: string }[];
  // The embed's visitor id: linked to the contact, and its earlier events stitched to it.
  anonymousId: string | null;
  // form.submitted's properties; the statement adds submissionId.
  eventProperties: Record<string, unknown>;
}

export interface SubmissionInput {
  form: { id: string; workspaceId: string; version: number; tags: string[]; doubleOptIn: boolean };
  // The form's fields, checked and normalised (checkSubmission).
  value: NormalisedSubmission;
  context: SentContext;
  ip: string | null;
  userAgent: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/**
 * What a checked submission writes: the channel from its context, consent states (email pending
 * under double opt-in, then 202), the ledger rows and form.submitted's properties. Pure: the app and
 * the bench baseline build the same statement parameters from it.
 */
export function newSubmission(input: SubmissionInput): NewSubmission {
  const { form, value } = input;
  const { anonymousId, ...touchContext } = input.context;
  const channel = classifyChannel(touchContext);
  const touch: Touch = { ...touchContext, channel, at: new Date().toISOString() };
  const emailConsent = value.consents.some((c) => c.channel === 'email');
  const smsConsent = value.consents.some((c) => c.channel === 'sms');
  const pending = form.doubleOptIn && emailConsent;
  return {
    workspaceId: form.workspaceId,
    formId: form.id,
    formVersion: form.version,
    contact: {
      email: value.email,
      phone: value.phone,
      firstName: value.firstName,
      lastName: value.lastName,
      attributes: value.attributes,
      tags: form.tags,
      touch,
      emailConsent: emailConsent ? (pending ? 'pending' : 'subscribed') : null,
      smsConsent: smsConsent ? 'subscribed' : null,
    },
    values: value.values,
    context: { ...input.context },
    channel,
    ip: input.ip,
    userAgent: input.userAgent,
    status: pending ? 202 : 201,
    idempotencyKey: input.idempotencyKey,
    requestHash: input.requestHash,
    consents: value.consents.map((c) => ({ channel: c.channel, status: c.channel === 'email' && pending ? 'pending' : 'granted', wording: c.text })),
    anonymousId: anonymousId ?? null,
    eventProperties: {
      formId: form.id,
      formVersion: form.version,
      channel,
      url: touchContext.url,
      utm_source: touchContext.utm_source,
      utm_medium: touchContext.utm_medium,
      utm_campaign: touchContext.utm_campaign,
    },
  };
}

export interface RecordedSubmission {
  submissionId: string;
  contactId: string;
}

/** SQLSTATE of the statement's own abort when a concurrent request with the same Idempotency-Key won. */
export const IDEMPOTENCY_KEY_TAKEN = 'LN409';

/**
 * A public submission in ONE statement (its own transaction unless the caller has one): the contact
 * upsert ($1-$10, shared with imports), the submission, the consent ledger, form.submitted plus a
 * tag.added per new tag as domain events, and their place in the rule engine's queue; with the embed's
 * anonymous id ($23), also the visitor link and the stitching of that visitor's earlier events. One
 * round trip, planned once per connection.
 *
 * Two statements rather than one with the visitor part switched off by a NULL: PostgreSQL starts the
 * executor for every table a plan names on each execution, and the stitching names every monthly
 * partition of `events` (a cost that grows with their number) even when it updates nothing.
 *
 * A concurrent request with the same Idempotency-Key that committed first leaves `sub` empty; the
 * statement then aborts itself (IDEMPOTENCY_KEY_TAKEN), so none of its writes remain. A concurrent
 * insert of the same new email fails it with a unique violation: the caller runs it again, and the
 * second run finds that contact.
 */
function recordSubmissionSql(withVisitor: boolean): string {
  const visitor = withVisitor
    ? `, linked AS (
         INSERT INTO contact_identities (workspace_id, anonymous_id, contact_id)
         SELECT $1, $23::text, contact.id FROM contact, sub
         ON CONFLICT (workspace_id, anonymous_id) DO UPDATE SET contact_id = EXCLUDED.contact_id
       ), stitched AS (
         UPDATE events e SET contact_id = contact.id FROM contact, sub
          WHERE e.workspace_id = $1 AND e.anonymous_id = $23::text AND e.contact_id IS NULL
       )`
    : '';
  return `WITH ${CONTACT_UPSERT_CTES},
       contact AS (
         SELECT id, added_tags FROM updated UNION ALL SELECT id, added_tags FROM inserted
       ), sub AS (
         INSERT INTO submissions (workspace_id, form_id, form_version, contact_id, "values", context, channel, ip, user_agent,
                                  status, idempotency_key, request_hash)
         SELECT $1, $11::uuid, $12::int, contact.id, $13::jsonb, $14::jsonb, $15::text, $16::inet, $17::text, $18::int, $19::text, $20::text
           FROM contact
         ON CONFLICT (form_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id
       ), consented AS (
         INSERT INTO consents (workspace_id, contact_id, channel, status, source, form_id, form_version, submission_id, wording, ip, user_agent)
         SELECT $1, contact.id, r.channel, r.status, 'form', $11::uuid, $12::int, sub.id, r.wording, $16::inet, $17::text
           FROM contact, sub, jsonb_to_recordset($21::jsonb) AS r(channel text, status text, wording text)
       ), recorded AS (
         INSERT INTO domain_events (workspace_id, contact_id, type, properties, dedupe_key, occurred_at)
         SELECT $1, contact.id, d.type, d.properties, d.dedupe_key, now()
           FROM contact, sub, LATERAL (
                  SELECT 'form.submitted', $22::jsonb || jsonb_build_object('submissionId', sub.id), 'submission:' || sub.id
                  UNION ALL
                  SELECT 'tag.added', jsonb_build_object('tag', t, 'source', 'form', 'formId', $11::uuid), 'submission:' || sub.id || ':tag:' || t
                    FROM unnest(contact.added_tags) AS t
                ) AS d(type, properties, dedupe_key)
         ON CONFLICT (workspace_id, dedupe_key) DO NOTHING
         RETURNING id, contact_id
       ), queued AS (
         INSERT INTO domain_event_queue (workspace_id, event_id, contact_id) SELECT $1, id, contact_id FROM recorded
       )${visitor}
       SELECT COALESCE(sub.id::text, raise_error('${IDEMPOTENCY_KEY_TAKEN}', 'a concurrent submission used this Idempotency-Key')) AS "submissionId",
              contact.id AS "contactId"
         FROM contact LEFT JOIN sub ON true`;
}

// Exported for the bench baseline, which must send exactly these statements.
export const RECORD_SUBMISSION = prepared('submission_record', recordSubmissionSql(false));
export const RECORD_SUBMISSION_WITH_VISITOR = prepared('submission_record_visitor', recordSubmissionSql(true));

/** The statement for this submission and its parameters, in order. */
export function recordSubmissionQuery(s: NewSubmission): { statement: PreparedStatement; values: unknown[] } {
  const values = [
    ...contactUpsertParams(s.workspaceId, s.contact),
    s.formId,
    s.formVersion,
    JSON.stringify(s.values),
    JSON.stringify(s.context),
    s.channel,
    s.ip,
    s.userAgent,
    s.status,
    s.idempotencyKey,
    s.requestHash,
    JSON.stringify(s.consents),
    JSON.stringify(s.eventProperties),
  ];
  if (s.anonymousId === null) return { statement: RECORD_SUBMISSION, values };
  return { statement: RECORD_SUBMISSION_WITH_VISITOR, values: [...values, s.anonymousId] };
}
