import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination.js';
import type { FunnelRow, FunnelStatus, FunnelWithStages, StageInput, StageRow } from './funnel.types.js';

const FUNNEL_COLUMNS = `id, workspace_id AS "workspaceId", name, description, status, skipped_stages_count AS "skippedStagesCount",
  version, created_at AS "createdAt", updated_at AS "updatedAt"`;
const STAGE_COLUMNS = `id, funnel_id AS "funnelId", key, name, position, rules, archived_at AS "archivedAt"`;

export interface FunnelChange {
  name: string;
  description: string | null;
  status: FunnelStatus;
  skippedStagesCount: boolean;
}

@Injectable()
export class FunnelsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insert(workspaceId: string, f: FunnelChange, stages: StageInput[]): Promise<FunnelWithStages> {
    return this.ds.transaction(async (em) => {
      const [funnel] = await em.query<FunnelRow[]>(
        `INSERT INTO funnels (workspace_id, name, description, status, skipped_stages_count) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${FUNNEL_COLUMNS}`,
        [workspaceId, f.name, f.description, f.status, f.skippedStagesCount],
      );
      await this.upsertStages(em, workspaceId, funnel.id, stages);
      return { ...funnel, stages: await this.stagesOf(em, workspaceId, [funnel.id]) };
    });
  }

  async findById(workspaceId: string, id: string): Promise<FunnelWithStages | null> {
    const [funnel] = await this.ds.query<FunnelRow[]>(`SELECT ${FUNNEL_COLUMNS} FROM funnels WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    if (!funnel) return null;
    return { ...funnel, stages: await this.stagesOf(this.ds.manager, workspaceId, [id]) };
  }

  async list(workspaceId: string, limit: number, after: Keyset | null, status?: FunnelStatus): Promise<FunnelWithStages[]> {
    const funnels = await this.ds.query<FunnelRow[]>(
      `SELECT ${FUNNEL_COLUMNS} FROM funnels
        WHERE workspace_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [workspaceId, status ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    const stages = await this.stagesOf(this.ds.manager, workspaceId, funnels.map((f) => f.id));
    return funnels.map((f) => ({ ...f, stages: stages.filter((s) => s.funnelId === f.id) }));
  }

  /**
   * Saves a change as a new version. With `stages`, stages are matched by key: kept keys are updated in
   * place (same id, same history), missing ones archived, returning ones revived. Null when not found.
   */
  async update(workspaceId: string, id: string, change: FunnelChange, stages: StageInput[] | undefined): Promise<FunnelWithStages | null> {
    return this.ds.transaction(async (em) => {
      const [rows] = await em.query<[FunnelRow[], number]>(
        `UPDATE funnels SET name = $3, description = $4, status = $5, skipped_stages_count = $6, version = version + 1, updated_at = now()
          WHERE workspace_id = $1 AND id = $2
          RETURNING ${FUNNEL_COLUMNS}`,
        [workspaceId, id, change.name, change.description, change.status, change.skippedStagesCount],
      );
      const funnel = rows[0];
      if (!funnel) return null;
      if (stages) {
        await em.query(
          `UPDATE funnel_stages SET archived_at = now(), updated_at = now()
            WHERE workspace_id = $1 AND funnel_id = $2 AND archived_at IS NULL AND key <> ALL($3::text[])`,
          [workspaceId, id, stages.map((s) => s.key)],
        );
        await this.upsertStages(em, workspaceId, id, stages);
      }
      return { ...funnel, stages: await this.stagesOf(em, workspaceId, [id]) };
    });
  }

  async hasHistory(workspaceId: string, id: string): Promise<boolean> {
    const rows = await this.ds.query<unknown[]>(`SELECT 1 FROM funnel_stage_history WHERE workspace_id = $1 AND funnel_id = $2 LIMIT 1`, [workspaceId, id]);
    return rows.length > 0;
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const [, count] = await this.ds.query<[unknown, number]>(`DELETE FROM funnels WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return count > 0;
  }

  private async upsertStages(em: EntityManager, workspaceId: string, funnelId: string, stages: StageInput[]): Promise<void> {
    await em.query(
      `INSERT INTO funnel_stages (workspace_id, funnel_id, key, name, position, rules)
       SELECT $1, $2, s.key, s.name, s.position, s.rules
         FROM jsonb_to_recordset($3::jsonb) AS s(key text, name text, position int, rules jsonb)
       ON CONFLICT (funnel_id, key) DO UPDATE
          SET name = EXCLUDED.name, position = EXCLUDED.position, rules = EXCLUDED.rules, archived_at = NULL, updated_at = now()`,
      [workspaceId, funnelId, JSON.stringify(stages)],
    );
  }

  private stagesOf(em: EntityManager, workspaceId: string, funnelIds: string[]): Promise<StageRow[]> {
    return em.query<StageRow[]>(
      `SELECT ${STAGE_COLUMNS} FROM funnel_stages WHERE workspace_id = $1 AND funnel_id = ANY($2::uuid[])
        ORDER BY funnel_id, position, archived_at NULLS FIRST, key`,
      [workspaceId, funnelIds],
    );
  }
}
