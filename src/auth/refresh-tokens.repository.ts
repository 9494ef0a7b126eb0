import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface RefreshTokenRow {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insert(em: EntityManager | undefined, row: { userId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await (em ?? this.ds.manager).query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
      [row.userId, row.familyId, row.tokenHash, row.expiresAt],
    );
  }

  /** Locks the token row so two concurrent refreshes with one token cannot both succeed. */
  async findForUpdate(em: EntityManager, tokenHash: string): Promise<RefreshTokenRow | null> {
    const rows = await em.query<RefreshTokenRow[]>(
      `SELECT id, user_id AS "userId", family_id AS "familyId", expires_at AS "expiresAt",
              used_at AS "usedAt", revoked_at AS "revokedAt"
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async markUsed(em: EntityManager, id: string): Promise<void> {
    await em.query(`UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, [id]);
  }

  async revokeFamily(em: EntityManager | undefined, familyId: string): Promise<void> {
    await (em ?? this.ds.manager).query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId],
    );
  }

  async findFamilyByHash(tokenHash: string): Promise<string | null> {
    const rows = await this.ds.query<{ familyId: string }[]>(
      `SELECT family_id AS "familyId" FROM refresh_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    return rows[0]?.familyId ?? null;
  }

  async purgeExpired(): Promise<number> {
    const [, count] = await this.ds.query<[unknown, number]>(
      `DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'`,
    );
    return count;
  }
}
