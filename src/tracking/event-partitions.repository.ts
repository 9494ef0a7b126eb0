import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

// Any number that is ours alone: one partition creator at a time across workers.
const PARTITIONS_LOCK = 7_341_101;

/** The first instant of the UTC month `at` falls in, moved by `months`. */
export function monthStart(at: Date, months = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
}

/** `events_p2026_05`: the partition holding events that occurred in May 2026 (UTC). */
export function partitionName(month: Date): string {
  return `events_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

@Injectable()
export class EventPartitionsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Creates the partition of the month starting at `month` unless it exists; true when it was created.
   * Rows of that month already sitting in the default partition move into it in the same transaction.
   * Built aside and then attached: ATTACH needs a weaker lock on `events` than CREATE … PARTITION OF.
   */
  async ensureMonth(month: Date): Promise<boolean> {
    const name = partitionName(month);
    const from = month.toISOString();
    const to = monthStart(month, 1).toISOString();
    return this.ds.transaction(async (em) => {
      // Bounded waits: ingestion must not queue for long behind a partition change; the job retries.
      await em.query(`SET LOCAL lock_timeout = '5s'`);
      await em.query(`SELECT pg_advisory_xact_lock($1)`, [PARTITIONS_LOCK]);
      const [{ exists }] = await em.query<{ exists: boolean }[]>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [name]);
      if (exists) return false;
      await em.query(`CREATE TABLE ${name} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)`);
      await em.query(
        `WITH moved AS (DELETE FROM events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
         INSERT INTO ${name} SELECT * FROM moved`,
        [from, to],
      );
      await em.query(`ALTER TABLE events ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
      return true;
    });
  }

  /** Names of the partitions of events, the default one included. */
  async list(): Promise<string[]> {
    const rows = await this.ds.query<{ name: string }[]>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
    );
    return rows.map((r) => r.name);
  }
}
