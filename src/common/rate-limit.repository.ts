import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

@Injectable()
export class RateLimitRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Counts one hit in a fixed window, starting a new window when the old one ended. One round-trip. */
  async hit(key: string, windowSeconds: number): Promise<{ hits: number; resetInSeconds: number }> {
    const [row] = await this.ds.query<{ hits: number; reset_in: number }[]>(
      `INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, now(), 1)
       ON CONFLICT (key) DO UPDATE SET
         window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN now() ELSE r.window_start END,
         hits = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE r.hits + 1 END
       RETURNING hits, ceil(extract(epoch FROM r.window_start + make_interval(secs => $2) - now()))::int AS reset_in`,
      [key, windowSeconds],
    );
    return { hits: row.hits, resetInSeconds: row.reset_in };
  }

  async purgeExpired(olderThanSeconds: number): Promise<number> {
    const [, count] = await this.ds.query<[unknown, number]>(
      `DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    );
    return count;
  }
}
