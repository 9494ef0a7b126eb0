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
}

export interface CurrentWrite {
  funnelId: string;
  contactId: string;
  stageId: string;
  channel: string | null;
  enteredAt: Date;
  funnelEnteredAt: Date;
}

export type LockedStage = CurrentStage & { funnelId: string; contactId: string };

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
   * are skipped, not waited for, and a rollback puts them back. `claimed` counts queue rows, `events`
   * holds those whose event still exists (an erased contact's are gone).
   */
  async claim(em: EntityManager, workspaceId: string, limit: number): Promise<{ claimed: number; events: ClaimedEvent[] }> {
    const rows = await em.query<(ClaimedEvent | { id: null })[]>(
      `WITH picked AS MATERIALIZED (
         -- Materialized: evaluated once. As a subquery of the DELETE it could run again per row and,
         -- skipping other rows each time, take more than the limit.
         SELECT event_id FROM domain_event_queue WHERE workspace_id = $1 ORDER BY event_id LIMIT $2 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         DELETE FROM domain_event_queue q USING picked
          WHERE q.workspace_id = $1 AND q.event_id = picked.event_id
         RETURNING q.event_id
       )
       SELECT e.id::text AS id, e.contact_id AS "contactId", e.type, e.properties, e.occurred_at AS "occurredAt", c.first_channel AS channel
         FROM claimed
         LEFT JOIN domain_events e ON e.id = claimed.event_id
         LEFT JOIN contacts c ON c.id = e.contact_id
        ORDER BY claimed.event_id`,
      [workspaceId, limit],
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
   * History rows in one statement; a row for an event already applied to that stage is skipped. An entry
   * is the contact's first into that stage unless one is already recorded (the unique index on first
   * entries turns a concurrent duplicate into an error, and the batch is retried).
   */
  async insertHistory(em: EntityManager, workspaceId: string, rows: HistoryWrite[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, from_stage_id, entered_at, source, domain_event_id,
                                         event_type, channel, seconds_from_previous, first_entry)
       SELECT $1, u.funnel_id, u.contact_id, u.stage_id, u.from_stage_id, u.entered_at, u.source, u.domain_event_id, u.event_type, u.channel,
              u.seconds_from_previous,
              NOT EXISTS (SELECT 1 FROM funnel_stage_history h
                           WHERE h.funnel_id = u.funnel_id AND h.contact_id = u.contact_id AND h.stage_id = u.stage_id AND h.first_entry)
         FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::timestamptz[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::float8[])
              AS u(funnel_id, contact_id, stage_id, from_stage_id, entered_at, source, domain_event_id, event_type, channel, seconds_from_previous)
       ON CONFLICT (domain_event_id, funnel_id, stage_id) WHERE domain_event_id IS NOT NULL DO NOTHING`,
      [
        workspaceId,
        rows.map((r) => r.funnelId),
        rows.map((r) => r.contactId),
        rows.map((r) => r.stageId),
        rows.map((r) => r.fromStageId),
        rows.map((r) => r.enteredAt.toISOString()),
        rows.map((r) => r.source),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.channel),
        rows.map((r) => r.secondsFromPrevious),
      ],
    );
  }

  /**
   * Sets the current stages. Forward only: a row another transaction created meanwhile (a manual move
   * racing the contact's first rule move) is replaced only by a later stage. Returns the pairs written.
   */
  async upsertCurrent(em: EntityManager, workspaceId: string, rows: CurrentWrite[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const written = await em.query<{ key: string }[]>(
      `INSERT INTO funnel_contacts AS fc (workspace_id, funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at)
       SELECT $1, u.funnel_id, u.contact_id, u.stage_id, u.channel, u.entered_at, u.funnel_entered_at
         FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[], $7::timestamptz[])
              AS u(funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at)
       ON CONFLICT (funnel_id, contact_id) DO UPDATE
          SET stage_id = EXCLUDED.stage_id, channel = COALESCE(fc.channel, EXCLUDED.channel), entered_at = EXCLUDED.entered_at, updated_at = now()
        WHERE (SELECT position FROM funnel_stages WHERE id = fc.stage_id) < (SELECT position FROM funnel_stages WHERE id = EXCLUDED.stage_id)
       RETURNING fc.funnel_id || ':' || fc.contact_id AS key`,
      [
        workspaceId,
        rows.map((r) => r.funnelId),
        rows.map((r) => r.contactId),
        rows.map((r) => r.stageId),
        rows.map((r) => r.channel),
        rows.map((r) => r.enteredAt.toISOString()),
        rows.map((r) => r.funnelEnteredAt.toISOString()),
      ],
    );
    return new Set(written.map((r) => r.key));
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
