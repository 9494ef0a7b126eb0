import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination.js';
import type { StageEntry } from './funnel-rules.js';
import type { HistorySource } from './funnel.types.js';

export interface StageRefRow {
  stageId: string;
  stageKey: string;
  stageName: string;
  stagePosition: number;
  stageArchived: boolean;
}

export interface FunnelContactRow extends StageRefRow {
  contactId: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  firstChannel: string | null;
  enteredAt: Date;
  funnelEnteredAt: Date;
}

export interface ContactFunnelRow extends StageRefRow {
  funnelId: string;
  funnelName: string;
  enteredAt: Date;
  funnelEnteredAt: Date;
}

export interface HistoryRow extends StageRefRow {
  funnelId: string;
  enteredAt: Date;
  source: HistorySource;
  eventType: string | null;
  actorUserId: string | null;
  actorApiKeyId: string | null;
  reason: string | null;
}

export interface LockedState {
  stageId: string;
  position: number;
  enteredAt: Date;
  funnelEnteredAt: Date;
}


const STAGE_REF = `s.id AS "stageId", s.key AS "stageKey", s.name AS "stageName", s.position AS "stagePosition",
  s.archived_at IS NOT NULL AS "stageArchived"`;

/** Where contacts stand in funnels, their history, and manual moves. */
@Injectable()
export class FunnelContactsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Contacts in a funnel, latest stage entry first; optionally in one stage or one contact only. */
  list(
    workspaceId: string,
    funnelId: string,
    filter: { stageId?: string; contactId?: string },
    limit: number,
    after: Keyset | null,
  ): Promise<FunnelContactRow[]> {
    return this.ds.query<FunnelContactRow[]>(
      `SELECT fc.contact_id AS "contactId", c.email, c.phone, c.first_name AS "firstName", c.last_name AS "lastName",
              c.first_channel AS "firstChannel", ${STAGE_REF}, fc.entered_at AS "enteredAt", fc.funnel_entered_at AS "funnelEnteredAt"
         FROM funnel_contacts fc
         JOIN funnel_stages s ON s.id = fc.stage_id
         JOIN contacts c ON c.id = fc.contact_id
        WHERE fc.workspace_id = $1 AND fc.funnel_id = $2
          AND ($3::uuid IS NULL OR fc.stage_id = $3)
          AND ($4::uuid IS NULL OR fc.contact_id = $4)
          AND ($5::timestamptz IS NULL OR (fc.entered_at, fc.contact_id) < ($5::timestamptz, $6::uuid))
        ORDER BY fc.entered_at DESC, fc.contact_id DESC
        LIMIT $7`,
      [workspaceId, funnelId, filter.stageId ?? null, filter.contactId ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
  }

  /** The contact's first-touch channel; null when there is no such contact in the workspace. */
  async findContact(workspaceId: string, contactId: string): Promise<{ channel: string | null } | null> {
    const rows = await this.ds.query<{ channel: string | null }[]>(`SELECT first_channel AS channel FROM contacts WHERE workspace_id = $1 AND id = $2`, [
      workspaceId,
      contactId,
    ]);
    return rows[0] ?? null;
  }

  /** The contact's current stage, locked against a concurrent move until the transaction ends. */
  async lockState(em: EntityManager, workspaceId: string, funnelId: string, contactId: string): Promise<LockedState | null> {
    const rows = await em.query<LockedState[]>(
      `SELECT fc.stage_id AS "stageId", s.position, fc.entered_at AS "enteredAt", fc.funnel_entered_at AS "funnelEnteredAt"
         FROM funnel_contacts fc JOIN funnel_stages s ON s.id = fc.stage_id
        WHERE fc.workspace_id = $1 AND fc.funnel_id = $2 AND fc.contact_id = $3
          FOR UPDATE OF fc`,
      [workspaceId, funnelId, contactId],
    );
    return rows[0] ?? null;
  }

  /** A manual move's entries (skipped stages, then the target), all with who and why. Returns the target row's id. */
  async insertManualHistory(
    em: EntityManager,
    workspaceId: string,
    move: { funnelId: string; contactId: string; fromStageId: string | null; channel: string | null; enteredAt: Date; actorUserId: string | null; actorApiKeyId: string | null; reason: string },
    entries: StageEntry[],
  ): Promise<string> {
    let from = move.fromStageId;
    const fromStages = entries.map((e) => {
      const previous = from;
      from = e.stageId;
      return previous;
    });
    const rows = await em.query<{ id: string; source: string }[]>(
      `INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, from_stage_id, entered_at, source, channel,
                                         seconds_from_previous, first_entry, actor_user_id, actor_api_key_id, reason)
       SELECT $1, $2, $3, u.stage_id, u.from_stage_id, $4, u.source, $5, u.seconds_from_previous,
              NOT EXISTS (SELECT 1 FROM funnel_stage_history h WHERE h.funnel_id = $2 AND h.contact_id = $3 AND h.stage_id = u.stage_id AND h.first_entry),
              $6, $7, $8
         FROM unnest($9::uuid[], $10::uuid[], $11::text[], $12::float8[]) WITH ORDINALITY AS u(stage_id, from_stage_id, source, seconds_from_previous, n)
        ORDER BY u.n
       RETURNING id::text AS id, source`,
      [
        workspaceId,
        move.funnelId,
        move.contactId,
        move.enteredAt.toISOString(),
        move.channel,
        move.actorUserId,
        move.actorApiKeyId,
        move.reason,
        entries.map((e) => e.stageId),
        fromStages,
        entries.map((e) => e.source),
        entries.map((e) => e.secondsFromPrevious),
      ],
    );
    return rows.find((r) => r.source === 'manual')?.id ?? '';
  }

  /**
   * Puts the contact in the stage, whatever it was in: a manual move may go back. Returns whether the
   * contact was new to the funnel (the row was inserted, not updated).
   */
  async setCurrent(
    em: EntityManager,
    workspaceId: string,
    s: { funnelId: string; contactId: string; stageId: string; channel: string | null; enteredAt: Date; funnelEnteredAt: Date },
  ): Promise<{ inserted: boolean }> {
    const [row] = await em.query<{ inserted: boolean }[]>(
      `INSERT INTO funnel_contacts AS fc (workspace_id, funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (funnel_id, contact_id) DO UPDATE
          SET stage_id = EXCLUDED.stage_id, channel = COALESCE(fc.channel, EXCLUDED.channel), entered_at = EXCLUDED.entered_at, updated_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [workspaceId, s.funnelId, s.contactId, s.stageId, s.channel, s.enteredAt.toISOString(), s.funnelEnteredAt.toISOString()],
    );
    return row;
  }

  /** Every funnel the contact is in, with its current stage. */
  forContact(workspaceId: string, contactId: string): Promise<ContactFunnelRow[]> {
    return this.ds.query<ContactFunnelRow[]>(
      `SELECT fc.funnel_id AS "funnelId", f.name AS "funnelName", ${STAGE_REF}, fc.entered_at AS "enteredAt", fc.funnel_entered_at AS "funnelEnteredAt"
         FROM funnel_contacts fc
         JOIN funnels f ON f.id = fc.funnel_id
         JOIN funnel_stages s ON s.id = fc.stage_id
        WHERE fc.workspace_id = $1 AND fc.contact_id = $2
        ORDER BY fc.funnel_entered_at, fc.funnel_id`,
      [workspaceId, contactId],
    );
  }

  /** The contact's stage entries in every funnel, oldest first. */
  historyOf(workspaceId: string, contactId: string): Promise<HistoryRow[]> {
    return this.ds.query<HistoryRow[]>(
      `SELECT h.funnel_id AS "funnelId", ${STAGE_REF}, h.entered_at AS "enteredAt", h.source, h.event_type AS "eventType",
              h.actor_user_id AS "actorUserId", h.actor_api_key_id AS "actorApiKeyId", h.reason
         FROM funnel_stage_history h
         JOIN funnel_stages s ON s.id = h.stage_id
        WHERE h.contact_id = $2 AND h.workspace_id = $1
        ORDER BY h.entered_at, h.id`,
      [workspaceId, contactId],
    );
  }
}
