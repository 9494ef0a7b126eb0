import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { prepared, runPrepared } from '../database/prepared.js';

// Exported for the bench baseline, which must send exactly this statement.
export const RATE_LIMIT_HIT = prepared(
  'rate_limit_hit',
  `INSERT INTO rate_limits AS r (key, window_start, hits)
       SELECT k, now(), 1 FROM unnest($1::text[]) AS k ORDER BY k
       ON CONFLICT (key) DO UPDATE SET
         window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN now() ELSE r.window_start END,
         hits = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE r.hits + 1 END
       RETURNING r.key, r.hits, ceil(extract(epoch FROM r.window_start + make_interval(secs => $2) - now()))::int AS "resetInSeconds"`,
);

@Injectable()
export class RateLimitRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Counts one hit on each key in a fixed window (starting a new window when the old one ended), all
   * keys in one statement. Keys are locked in sorted order, so concurrent calls cannot deadlock.
   */
  async hit(keys: string[], windowSeconds: number): Promise<{ key: string; hits: number; resetInSeconds: number }[]> {
    return runPrepared<{ key: string; hits: number; resetInSeconds: number }>(this.ds, RATE_LIMIT_HIT, [[...new Set(keys)].sort(), windowSeconds]);
  }

  async purgeExpired(olderThanSeconds: number): Promise<number> {
    const [, count] = await this.ds.query<[unknown, number]>(
      `DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    );
    return count;
  }
}
