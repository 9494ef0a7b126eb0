import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull, type DataSource } from 'typeorm';
import type { WorkspaceRole } from '../common/auth-context.js';
import type { Keyset } from '../common/pagination.js';
import { ApiKeyEntity, type ApiKeyKind } from './workspace.entities.js';

export interface ActiveKeyRow {
  id: string;
  workspaceId: string;
  kind: ApiKeyKind;
  role: WorkspaceRole | null;
  lastUsedAt: Date | null;
}

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  insert(key: Omit<ApiKeyEntity, 'id' | 'createdAt' | 'lastUsedAt' | 'revokedAt'>): Promise<ApiKeyEntity> {
    const repo = this.ds.getRepository(ApiKeyEntity);
    return repo.save(repo.create(key));
  }

  list(workspaceId: string, limit: number, after: Keyset | null): Promise<ApiKeyEntity[]> {
    const qb = this.ds
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.workspace_id = :workspaceId', { workspaceId })
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit);
    if (after) qb.andWhere('(k.created_at, k.id) < (:createdAt, :id)', after);
    return qb.getMany();
  }

  findById(workspaceId: string, id: string): Promise<ApiKeyEntity | null> {
    return this.ds.getRepository(ApiKeyEntity).findOneBy({ workspaceId, id });
  }

  /** Revokes a key; false when it does not exist in this workspace or was already revoked. */
  async revoke(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.ds
      .getRepository(ApiKeyEntity)
      .update({ workspaceId, id, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return (result.affected ?? 0) > 0;
  }

  /** The per-request lookup: one indexed read; revoked keys never match. */
  async findActiveByHash(tokenHash: string): Promise<ActiveKeyRow | null> {
    const rows = await this.ds.query<ActiveKeyRow[]>(
      `SELECT id, workspace_id AS "workspaceId", kind, role, last_used_at AS "lastUsedAt"
         FROM api_keys WHERE token_hash = $1 AND revoked_at IS NULL`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async touch(id: string): Promise<void> {
    await this.ds.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id]);
  }
}
