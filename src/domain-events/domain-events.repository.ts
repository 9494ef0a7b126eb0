import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { NewDomainEvent } from './domain-event.types.js';

@Injectable()
export class DomainEventsRepository {
  /**
   * One statement in the caller's transaction: the events, and with `evaluate` their place in the rule
   * engine's queue. A dedupe key seen before is skipped. Returns how many events were new.
   */
  async insert(em: EntityManager, workspaceId: string, events: readonly NewDomainEvent[], evaluate: boolean): Promise<number> {
    const [{ n }] = await em.query<{ n: number }[]>(
      `WITH recorded AS (
         INSERT INTO domain_events (workspace_id, contact_id, type, properties, dedupe_key, occurred_at)
         SELECT $1, r.contact_id, r.type, r.properties, r.dedupe_key, COALESCE(r.occurred_at, now())
           FROM jsonb_to_recordset($2::jsonb) AS r(contact_id uuid, type text, properties jsonb, dedupe_key text, occurred_at timestamptz)
         ON CONFLICT (workspace_id, dedupe_key) DO NOTHING
         RETURNING id, contact_id
       ), queued AS (
         INSERT INTO domain_event_queue (workspace_id, event_id, contact_id) SELECT $1, id, contact_id FROM recorded WHERE $3
       )
       SELECT count(*)::int AS n FROM recorded`,
      [
        workspaceId,
        JSON.stringify(
          events.map((e) => ({
            contact_id: e.contactId,
            type: e.type,
            properties: e.properties,
            dedupe_key: e.dedupeKey,
            occurred_at: e.occurredAt?.toISOString() ?? null,
          })),
        ),
        evaluate,
      ],
    );
    return n;
  }
}
