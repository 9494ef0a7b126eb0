import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { prepared, runPrepared } from '../database/prepared.js';

export interface EventRow {
  type: string;
  anonymousId: string | null;
  contactId: string | null;
  properties: string;
  context: string;
  channel: string | null;
  occurredAt: string;
}

// Exported for the bench baseline, which must send exactly this statement.
export const INSERT_EVENT_BATCH = prepared(
  'event_batch_insert',
  `WITH inserted AS (
       INSERT INTO events (workspace_id, type, anonymous_id, contact_id, properties, context, channel, occurred_at)
       SELECT $1, u.type, u.anonymous_id, COALESCE(c.id, ci.contact_id), u.properties::jsonb, u.context::jsonb, u.channel, u.occurred_at::timestamptz
         FROM unnest($2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[])
              AS u(type, anonymous_id, contact_id, properties, context, channel, occurred_at)
         LEFT JOIN contacts c ON c.workspace_id = $1 AND c.id = u.contact_id
         LEFT JOIN contact_identities ci ON ci.workspace_id = $1 AND ci.anonymous_id = u.anonymous_id
       RETURNING id, type, contact_id, properties, context, channel, occurred_at),
       recorded AS (
       INSERT INTO domain_events (workspace_id, contact_id, type, properties, dedupe_key, occurred_at)
       SELECT $1, i.contact_id, i.type,
              jsonb_strip_nulls(jsonb_build_object('url', i.context->>'url', 'channel', i.channel)) || i.properties,
              'event:' || i.id, i.occurred_at
         FROM inserted i
        WHERE i.contact_id IS NOT NULL AND ($9::boolean OR i.type <> ALL($10::text[]))
       ON CONFLICT (workspace_id, dedupe_key) DO NOTHING
       RETURNING id, contact_id),
       queued AS (
       INSERT INTO domain_event_queue (workspace_id, event_id, contact_id) SELECT $1, id, contact_id FROM recorded)
       SELECT (SELECT count(*) FROM inserted)::int AS accepted, (SELECT count(*) FROM recorded)::int AS recorded`,
);

@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * The whole batch in one statement. An anonymous id already tied to a contact is stitched on the way
   * in; a contact id from another workspace matches nothing and is dropped to null. Events of a known
   * contact are recorded as domain events by the same statement (keyed by event id), except server-side
   * types (`reserved`) unless a secret key sent them.
   */
  async insertBatch(workspaceId: string, rows: EventRow[], trusted: boolean, reserved: readonly string[]): Promise<{ accepted: number; recorded: number }> {
    const [counts] = await runPrepared<{ accepted: number; recorded: number }>(
      this.ds,
      INSERT_EVENT_BATCH,
      [
        workspaceId,
        rows.map((r) => r.type),
        rows.map((r) => r.anonymousId),
        rows.map((r) => r.contactId),
        rows.map((r) => r.properties),
        rows.map((r) => r.context),
        rows.map((r) => r.channel),
        rows.map((r) => r.occurredAt),
        trusted,
        reserved,
      ],
    );
    return counts;
  }
}
