import { randomUUID } from 'node:crypto';
import { DataSource, type QueryRunner } from 'typeorm';
import type { NewDomainEvent } from '../../src/domain-events/domain-event.types.js';
import { DomainEventsService } from '../../src/domain-events/domain-events.service.js';
import { FunnelEngineService } from '../../src/funnels/funnel-engine.service.js';
import { bearer, uniqueEmail, type Session } from './factories.js';
import { submit } from './forms.js';
import type { TestApp } from './test-app.js';

export interface FunnelBody {
  id: string;
  version: number;
  stages: { id: string; key: string; position: number }[];
  archivedStages: { id: string; key: string }[];
}

export const funnelPath = (ws: Session, p = '') => `/v1/workspaces/${ws.workspaceId}/funnels${p}`;

/** lead (form.submitted) → confirmed (contact.confirmed) → customer (payment.succeeded), plus overrides. */
export const THREE_STAGES = [
  { key: 'lead', name: 'Lead', position: 10, rules: [{ event: 'form.submitted' }] },
  { key: 'confirmed', name: 'Confirmed', position: 20, rules: [{ event: 'contact.confirmed' }] },
  { key: 'customer', name: 'Customer', position: 30, rules: [{ event: 'payment.succeeded' }] },
];

export async function newFunnel(t: TestApp, ws: Session, body: Record<string, unknown> = {}): Promise<FunnelBody> {
  const res = await t
    .http()
    .post(funnelPath(ws))
    .set(...bearer(ws.accessToken))
    .send({ name: 'Instagram to customer', stages: THREE_STAGES, ...body });
  if (res.status !== 201) throw new Error(`funnel not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Submits the form as a new person; returns the contact's id and email. */
export async function newLead(t: TestApp, formId: string, context: Record<string, string> = {}, email = uniqueEmail('lead')): Promise<{ id: string; email: string }> {
  const res = await submit(t, formId, { fields: { email }, consent: { newsletter: true }, context });
  if (res.status !== 201 && res.status !== 202) throw new Error(`submission failed: ${res.status} ${JSON.stringify(res.body)}`);
  const [row] = await t.sql<{ id: string }>(`SELECT id FROM contacts WHERE email = $1`, [email]);
  return { id: row.id, email };
}

/** Records server-side events through the typed hook, as the messaging and billing modules will. */
export async function recordEvents(t: TestApp, workspaceId: string, events: NewDomainEvent[]): Promise<number> {
  const ds = t.app.get(DataSource);
  const hook = t.app.get(DomainEventsService);
  return ds.transaction((em) => hook.record(em, workspaceId, events));
}

export const emailOpened = (contactId: string): NewDomainEvent => ({
  type: 'email.opened',
  contactId,
  properties: { messageId: randomUUID() },
  dedupeKey: `sendgrid:${randomUUID()}`,
});

/**
 * Waits until the workspace's queue of domain events is drained. The worker drains it too (whichever
 * claims an event first evaluates it): calling the engine here only makes it quicker.
 */
export async function settle(t: TestApp, workspaceId: string): Promise<void> {
  const engine = t.app.get(FunnelEngineService);
  for (let i = 0; i < 200; i++) {
    await engine.evaluateWorkspace(workspaceId);
    const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM domain_event_queue WHERE workspace_id = $1`, [workspaceId]);
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('domain events were not processed in time');
}

/** The key of the contact's current stage in the funnel, or null when not in it. */
export async function stageOf(t: TestApp, funnelId: string, contactId: string): Promise<string | null> {
  const [row] = await t.sql<{ key: string }>(
    `SELECT s.key FROM funnel_contacts fc JOIN funnel_stages s ON s.id = fc.stage_id WHERE fc.funnel_id = $1 AND fc.contact_id = $2`,
    [funnelId, contactId],
  );
  return row?.key ?? null;
}

export async function historyOf(t: TestApp, funnelId: string, contactId: string): Promise<{ key: string; source: string; event_type: string | null }[]> {
  return t.sql(
    `SELECT s.key, h.source, h.event_type FROM funnel_stage_history h JOIN funnel_stages s ON s.id = h.stage_id
      WHERE h.funnel_id = $1 AND h.contact_id = $2 ORDER BY h.id`,
    [funnelId, contactId],
  );
}

/** Puts the workspace's domain events back in the rule engine's queue, as a replay would. */
export async function requeue(t: TestApp, workspaceId: string, where = 'true'): Promise<void> {
  await t.sql(`INSERT INTO domain_event_queue (workspace_id, event_id, contact_id) SELECT workspace_id, id, contact_id FROM domain_events WHERE workspace_id = $1 AND ${where}`, [
    workspaceId,
  ]);
}

export interface StageCount {
  stage_id: string;
  channel: string;
  entered: number;
  still_in: number;
}

/**
 * The funnel's counts as its rollup keeps them (15-minute slots summed), and as counted directly from
 * history (first entries) and current stages: equal whenever the triggers did their job.
 */
export async function countsOf(t: TestApp, funnelId: string): Promise<{ rollup: StageCount[]; direct: StageCount[] }> {
  const rollup = await t.sql<StageCount>(
    `SELECT stage_id, channel, sum(entered)::int AS entered, sum(still_in)::int AS still_in FROM funnel_stage_counts
      WHERE funnel_id = $1 GROUP BY 1, 2 HAVING sum(entered) <> 0 OR sum(still_in) <> 0 ORDER BY 1, 2`,
    [funnelId],
  );
  const direct = await t.sql<StageCount>(
    `SELECT stage_id, channel, sum(entered)::int AS entered, sum(still_in)::int AS still_in FROM (
       SELECT stage_id, coalesce(channel, '') AS channel, 1 AS entered, 0 AS still_in FROM funnel_stage_history WHERE funnel_id = $1 AND first_entry
       UNION ALL
       SELECT stage_id, coalesce(channel, ''), 0, 1 FROM funnel_contacts WHERE funnel_id = $1) x
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [funnelId],
  );
  return { rollup, direct };
}

export interface QueuedEvent {
  type: string;
  contactId: string;
  properties: Record<string, unknown>;
  dedupeKey: string;
  occurredAt: Date;
}

/**
 * Queues domain events in the order given without waking the engine: no job, so no worker races the
 * test's own call to it.
 */
export async function queueQuietly(t: TestApp, workspaceId: string, events: QueuedEvent[]): Promise<void> {
  await t.sql(
    `WITH recorded AS (
       INSERT INTO domain_events (workspace_id, contact_id, type, properties, dedupe_key, occurred_at)
       SELECT $1, r.contact_id, r.type, r.properties, r.dedupe_key, r.occurred_at
         FROM jsonb_to_recordset($2::jsonb) AS r(contact_id uuid, type text, properties jsonb, dedupe_key text, occurred_at timestamptz)
       RETURNING id, contact_id)
     INSERT INTO domain_event_queue (workspace_id, event_id, contact_id) SELECT $1, id, contact_id FROM recorded`,
    [workspaceId, JSON.stringify(events.map((e) => ({ contact_id: e.contactId, type: e.type, properties: e.properties, dedupe_key: e.dedupeKey, occurred_at: e.occurredAt })))],
  );
}

/**
 * A contact made without a submission: a submission wakes the engine's job a moment later, and that
 * worker could claim events the test queues for its own call.
 */
export async function quietContact(t: TestApp, workspaceId: string, label: string): Promise<string> {
  const [row] = await t.sql<{ id: string }>(`INSERT INTO contacts (workspace_id, email, email_status) VALUES ($1, $2, 'subscribed') RETURNING id`, [
    workspaceId,
    uniqueEmail(label),
  ]);
  return row.id;
}

/**
 * Runs `play` as another writer of the workspace's funnel counts (a lane, a manual move, an erasure):
 * in a transaction of its own that holds the workspace's count lock (FunnelCountsLock) from the start.
 * `play` commits when its part is done; whatever it leaves open is rolled back.
 */
export async function asCountWriter(t: TestApp, workspaceId: string, play: (other: QueryRunner) => Promise<void>): Promise<void> {
  const other = t.app.get(DataSource).createQueryRunner();
  await other.connect();
  try {
    await other.startTransaction();
    await other.query(`SELECT pg_advisory_xact_lock(hashtext('funnel_counts'), hashtext($1))`, [workspaceId]);
    await play(other);
  } finally {
    if (other.isTransactionActive) await other.rollbackTransaction();
    await other.release();
  }
}

/** Waits until a transaction waits for the workspace's count lock. */
export async function countLockWaited(t: TestApp, workspaceId: string): Promise<void> {
  for (let i = 0; ; i++) {
    const waiting = await t.sql(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = hashtext($1)::oid`, [workspaceId]);
    if (waiting.length > 0) return;
    if (i > 200) throw new Error('nothing waited for the count lock');
    await new Promise((r) => setTimeout(r, 10));
  }
}
