import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface IdempotencyOwner {
  /** `user:<id>` or `key:<id>`: a key belongs to the caller who sent it. */
  scope: string;
  userId: string | null;
  apiKeyId: string | null;
  workspaceId: string | null;
}

export type Claim =
  /** `holder`: which claim of the key this is, for answering or giving it back. */
  | { kind: 'claimed'; holder: string }
  | { kind: 'answered'; status: number; body: unknown }
  | { kind: 'running'; retryAfterSeconds: number }
  | { kind: 'reused' };

/** The answers of admin POSTs sent with an Idempotency-Key (table `idempotent_requests`). */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Takes the key for this request, or says what became of the request that took it first. A key whose
   * request never finished (its process died) is taken over after `staleSeconds`; a key older than
   * `retentionSeconds` counts as unused.
   */
  async claim(owner: IdempotencyOwner, key: string, requestHash: string, staleSeconds: number, retentionSeconds: number): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [taken] = await this.ds.query<{ holder: string }[]>(
        `INSERT INTO idempotent_requests AS r (scope, key, request_hash, user_id, api_key_id, workspace_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scope, key) DO UPDATE SET
           request_hash = EXCLUDED.request_hash, workspace_id = EXCLUDED.workspace_id,
           status = NULL, response = NULL, created_at = now()
         WHERE r.created_at < now() - make_interval(secs => $8)
            OR (r.status IS NULL AND r.request_hash = EXCLUDED.request_hash AND r.created_at < now() - make_interval(secs => $7))
         RETURNING r.created_at::text AS holder`,
        [owner.scope, key, requestHash, owner.userId, owner.apiKeyId, owner.workspaceId, staleSeconds, retentionSeconds],
      );
      if (taken) return { kind: 'claimed', holder: taken.holder };
      const [earlier] = await this.ds.query<{ requestHash: string; status: number | null; response: unknown; retryAfter: number }[]>(
        `SELECT request_hash AS "requestHash", status, response,
                greatest(1, ceil(extract(epoch FROM created_at + make_interval(secs => $3) - now())))::int AS "retryAfter"
           FROM idempotent_requests WHERE scope = $1 AND key = $2`,
        [owner.scope, key, staleSeconds],
      );
      // Gone in between: the first request failed and gave the key back.
      if (!earlier) continue;
      if (earlier.requestHash !== requestHash) return { kind: 'reused' };
      if (earlier.status === null) return { kind: 'running', retryAfterSeconds: earlier.retryAfter };
      return { kind: 'answered', status: earlier.status, body: earlier.response };
    }
    // Taken and given back three times in a row: as busy as a request still running.
    return { kind: 'running', retryAfterSeconds: 1 };
  }

  /**
   * Keeps the answer of the request that holds the key. Matched on the holder too: a request so slow
   * that another took its key over does not overwrite that one's claim.
   */
  async answer(scope: string, key: string, holder: string, status: number, body: unknown): Promise<void> {
    await this.ds.query(
      `UPDATE idempotent_requests SET status = $4, response = $5::json
        WHERE scope = $1 AND key = $2 AND created_at = $3::timestamptz AND status IS NULL`,
      [scope, key, holder, status, JSON.stringify(body ?? null)],
    );
  }

  /** The request failed and stored nothing: a retry with the key runs again. */
  async release(scope: string, key: string, holder: string): Promise<void> {
    await this.ds.query(`DELETE FROM idempotent_requests WHERE scope = $1 AND key = $2 AND created_at = $3::timestamptz AND status IS NULL`, [
      scope,
      key,
      holder,
    ]);
  }

  async purgeExpired(olderThanSeconds: number): Promise<number> {
    const [, count] = await this.ds.query<[unknown, number]>(
      `DELETE FROM idempotent_requests WHERE created_at < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    );
    return count;
  }
}
