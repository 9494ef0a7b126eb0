import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ClaimedEvent, CompiledFunnel, CurrentStage, StageRule } from './funnel-rules.js';

export interface HistoryWrite {
  funnelId: string;
  contactId: string;
  stageId: string;
  fromStageId: string | null;
  enteredAt: Date;
  source: 'rule' | 'skip' | 'manual';
  eventId: string;
  eventType: string;
  channel: string | null;
  secondsFromPrevious: number | null;
  // true: known to be the contact's first entry into the stage (it was new to the funnel); null: look.
  firstEntry: true | null;
}

export interface CurrentWrite {
  funnelId: string;
  contactId: string;
  stageId: string;
  channel: string | null;
  enteredAt: Date;
  funnelEnteredAt: Date;
}

/** `contact.stage_changed` of one move, recorded if its pair's current stage was written. */
export interface ChangeWrite {
  funnelId: string;
  contactId: string;
  properties: Record<string, unknown>;
  dedupeKey: string;
  occurredAt: Date;
}

export interface MovesWrite {
  history: HistoryWrite[];
  // One per (funnel, contact), sorted by that pair.
  current: CurrentWrite[];
  changes: ChangeWrite[];
}

export type LockedStage = CurrentStage & { funnelId: string; contactId: string };

/** Lane `index` of `of`: the contacts whose id's last byte modulo `of` is `index`. */
export interface Lane {
  index: number;
  of: number;
}

export const SINGLE_LANE: Lane = { index: 0, of: 1 };

/** The rule engine's SQL: claim events, lock and move contacts. All in the caller's transaction. */
@Injectable()
export class FunnelEngineRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Changes whenever any funnel of the workspace does (every write bumps version and updated_at). */
  async rulesFingerprint(workspaceId: string): Promise<string> {
    const [row] = await this.ds.query<{ fingerprint: string }[]>(
      `SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(extract(epoch FROM max(updated_at)), 0) AS fingerprint
         FROM funnels WHERE workspace_id = $1`,
      [workspaceId],
    );
    return row.fingerprint;
  }

  /** Active funnels with their active stages: what the engine evaluates. */
  async activeFunnels(workspaceId: string): Promise<CompiledFunnel[]> {
    const rows = await this.ds.query<{ funnelId: string; skippedStagesCount: boolean; stageId: string; key: string; position: number; rules: StageRule[] }[]>(
      `SELECT f.id AS "funnelId", f.skipped_stages_count AS "skippedStagesCount", s.id AS "stageId", s.key, s.position, s.rules
         FROM funnels f
         JOIN funnel_stages s ON s.funnel_id = f.id AND s.archived_at IS NULL
        WHERE f.workspace_id = $1 AND f.status = 'active'
        ORDER BY f.id, s.position`,
      [workspaceId],
    );
    const funnels = new Map<string, CompiledFunnel>();
    for (const r of rows) {
      const f = funnels.get(r.funnelId) ?? { id: r.funnelId, skippedStagesCount: r.skippedStagesCount, stages: [] };
      f.stages.push({ id: r.stageId, key: r.key, position: r.position, rules: r.rules });
      funnels.set(r.funnelId, f);
    }
    return [...funnels.values()];
  }

  /**
   * Takes the next queued events in id order by deleting them from the queue: rows another worker holds
   * are skipped, not waited for, and a rollback puts them back. With `lanes` > 1, only the events of
   * contacts in lane `lane` (their id's last byte modulo `lanes`, read off the queue row): every event of
   * a contact goes to the same lane, so lanes run side by side without ever moving one contact at once.
   * A row without a contact (queued by a version before the column) is taken by any lane. Only the events
   * taken are read. `claimed` counts queue rows, `events` holds those whose event still exists (a row
   * whose contact was erased is dropped).
   */
  async claim(em: EntityManager, workspaceId: string, limit: number, lane: Lane = SINGLE_LANE): Promise<{ claimed: number; events: ClaimedEvent[] }> {
    const rows = await em.query<(ClaimedEvent | { id: null })[]>(
      `WITH picked AS MATERIALIZED (
         -- Materialized: evaluated once. As a subquery of the DELETE it could run again per row and,
         -- skipping other rows each time, take more than the limit.
         SELECT q.ctid AS tid FROM domain_event_queue q
          WHERE q.workspace_id = $1 AND ($3 = 1 OR q.contact_id IS NULL OR get_byte(uuid_send(q.contact_id), 15) % $3 = $4)
          ORDER BY q.event_id LIMIT $2
            FOR UPDATE SKIP LOCKED
       ), claimed AS (
         -- By row address: this statement holds the rows' locks, so they cannot have moved.
         DELETE FROM domain_event_queue q
          WHERE q.ctid = ANY (ARRAY(SELECT tid FROM picked)) AND q.workspace_id = $1
         RETURNING q.event_id
       )
       SELECT e.id::text AS id, e.contact_id AS "contactId", e.type, e.properties, e.occurred_at AS "occurredAt", c.first_channel AS channel
         FROM claimed
         LEFT JOIN domain_events e ON e.id = claimed.event_id
         LEFT JOIN contacts c ON c.id = e.contact_id
        ORDER BY claimed.event_id`,
      [workspaceId, limit, lane.of, lane.index],
    );
    return { claimed: rows.length, events: rows.filter((r): r is ClaimedEvent => r.id !== null) };
  }

  /** funnelId:eventId of events that already moved someone: a replay must not move them again. */
  async appliedEvents(em: EntityManager, workspaceId: string, eventIds: string[]): Promise<Set<string>> {
    const rows = await em.query<{ key: string }[]>(
      `SELECT DISTINCT funnel_id || ':' || domain_event_id AS key
         FROM funnel_stage_history
        WHERE domain_event_id = ANY($2::bigint[]) AND workspace_id = $1`,
      [workspaceId, eventIds],
    );
    return new Set(rows.map((r) => r.key));
  }

  /** Current stages of these (funnel, contact) pairs, locked in a fixed order so two writers cannot deadlock. */
  async lockCurrent(em: EntityManager, workspaceId: string, pairs: { funnelId: string; contactId: string }[]): Promise<LockedStage[]> {
    return em.query<LockedStage[]>(
      `SELECT fc.funnel_id AS "funnelId", fc.contact_id AS "contactId", fc.stage_id AS "stageId", s.position,
              fc.entered_at AS "enteredAt", fc.funnel_entered_at AS "funnelEnteredAt"
         FROM funnel_contacts fc
         JOIN funnel_stages s ON s.id = fc.stage_id
        WHERE fc.workspace_id = $1
          AND (fc.funnel_id, fc.contact_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))
        ORDER BY fc.funnel_id, fc.contact_id
          FOR UPDATE OF fc`,
      [workspaceId, pairs.map((p) => p.funnelId), pairs.map((p) => p.contactId)],
    );
  }

  /**
   * A batch's moves in one statement: the history rows, the current stages, and `contact.stage_changed`
   * for each change that took. The count triggers of history and current stages fire at its end, so
   * the workspace's count lock (FunnelCountsLock) is held only from there to the commit.
   *
   * - History: a row for an event already applied to that stage is skipped. An entry is the contact's
   *   first into that stage unless one is already recorded; that is looked up only for contacts that
   *   were in the funnel already (`firstEntry` null). The unique index on first entries turns a
   *   concurrent duplicate (a manual move that put a new contact in the funnel meanwhile) into an
   *   error, and the batch is retried.
   * - Current stages, forward only: a row another transaction created meanwhile (a manual move racing
   *   the contact's first rule move) is replaced only by a later stage. Rows come sorted by pair, so
   *   two writers inserting the same new rows take their locks in the same order.
   * - A change is announced only when its pair's current stage was written.
   */
  async write(em: EntityManager, workspaceId: string, moves: MovesWrite): Promise<void> {
    const { history, current, changes } = moves;
    // Every data-modifying CTE runs to completion whether the outer query reads it or not.
    await em.query(
      `WITH history AS (
         INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, from_stage_id, entered_at, source, domain_event_id,
                                           event_type, channel, seconds_from_previous, first_entry)
         SELECT $1, u.funnel_id, u.contact_id, u.stage_id, u.from_stage_id, u.entered_at, u.source, u.domain_event_id, u.event_type, u.channel,
                u.seconds_from_previous,
                -- CASE: the lookup runs only where the first entry is not known.
                CASE WHEN u.first_entry THEN true
                     ELSE NOT EXISTS (SELECT 1 FROM funnel_stage_history h
                                       WHERE h.funnel_id = u.funnel_id AND h.contact_id = u.contact_id AND h.stage_id = u.stage_id AND h.first_entry)
                END
           FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::timestamptz[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::float8[],
                       $23::boolean[])
                AS u(funnel_id, contact_id, stage_id, from_stage_id, entered_at, source, domain_event_id, event_type, channel, seconds_from_previous,
                     first_entry)
         ON CONFLICT (domain_event_id, funnel_id, stage_id) WHERE domain_event_id IS NOT NULL DO NOTHING
       ), written AS (
         INSERT INTO funnel_contacts AS fc (workspace_id, funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at)
         SELECT $1, u.funnel_id, u.contact_id, u.stage_id, u.channel, u.entered_at, u.funnel_entered_at
           FROM unnest($12::uuid[], $13::uuid[], $14::uuid[], $15::text[], $16::timestamptz[], $17::timestamptz[])
                AS u(funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at)
         ON CONFLICT (funnel_id, contact_id) DO UPDATE
            SET stage_id = EXCLUDED.stage_id, channel = COALESCE(fc.channel, EXCLUDED.channel), entered_at = EXCLUDED.entered_at, updated_at = now()
          WHERE (SELECT position FROM funnel_stages WHERE id = fc.stage_id) < (SELECT position FROM funnel_stages WHERE id = EXCLUDED.stage_id)
         RETURNING fc.funnel_id, fc.contact_id
       ), announced AS (
         INSERT INTO domain_events (workspace_id, contact_id, type, properties, dedupe_key, occurred_at)
         SELECT $1, u.contact_id, 'contact.stage_changed', u.properties, u.dedupe_key, u.occurred_at
           FROM unnest($18::uuid[], $19::uuid[], $20::jsonb[], $21::text[], $22::timestamptz[]) AS u(funnel_id, contact_id, properties, dedupe_key, occurred_at)
          WHERE EXISTS (SELECT 1 FROM written w WHERE w.funnel_id = u.funnel_id AND w.contact_id = u.contact_id)
         ON CONFLICT (workspace_id, dedupe_key) DO NOTHING
       )
       SELECT 1`,
      [
        workspaceId,
        history.map((r) => r.funnelId),
        history.map((r) => r.contactId),
        history.map((r) => r.stageId),
        history.map((r) => r.fromStageId),
        history.map((r) => r.enteredAt.toISOString()),
        history.map((r) => r.source),
        history.map((r) => r.eventId),
        history.map((r) => r.eventType),
        history.map((r) => r.channel),
        history.map((r) => r.secondsFromPrevious),
        current.map((r) => r.funnelId),
        current.map((r) => r.contactId),
        current.map((r) => r.stageId),
        current.map((r) => r.channel),
        current.map((r) => r.enteredAt.toISOString()),
        current.map((r) => r.funnelEnteredAt.toISOString()),
        changes.map((c) => c.funnelId),
        changes.map((c) => c.contactId),
        changes.map((c) => JSON.stringify(c.properties)),
        changes.map((c) => c.dedupeKey),
        changes.map((c) => c.occurredAt.toISOString()),
        history.map((r) => r.firstEntry),
      ],
    );
  }

  /** Workspaces with events queued longer than a job should take to start: their wake-up was lost. */
  async staleWorkspaces(olderThanSeconds: number): Promise<string[]> {
    const rows = await this.ds.query<{ workspaceId: string }[]>(
      `SELECT DISTINCT workspace_id AS "workspaceId" FROM domain_event_queue WHERE created_at < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    );
    return rows.map((r) => r.workspaceId);
  }
}
