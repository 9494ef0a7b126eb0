import type { MigrationInterface, QueryRunner } from 'typeorm';

// The three analytics rollups, with their key column and counts.
const ROLLUPS = [
  { table: 'analytics_channel_stats', key: 'channel', counts: ['new_contacts', 'confirmed', 'pending', 'form_views', 'submissions'] },
  { table: 'analytics_campaign_stats', key: 'campaign', counts: ['new_contacts', 'confirmed', 'pending', 'form_views', 'submissions'] },
  { table: 'analytics_form_stats', key: 'form_id', counts: ['form_views', 'submissions'] },
];

/**
 * A third grain in the analytics rollups: UTC days (grain 1440), the sums of their hourly rows, kept
 * by the refresh like the hours. A report reads whole UTC days inside its range from them: a year of
 * sources or a UTC overview reads 365 rows per key instead of 8,760. Existing hours are summed into
 * days here.
 */
export class AnalyticsDailyGrain1795256300000 implements MigrationInterface {
  name = 'AnalyticsDailyGrain1795256300000';

  async up(q: QueryRunner): Promise<void> {
    for (const { table, key, counts } of ROLLUPS) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_grain_check, ADD CONSTRAINT ${table}_grain_check CHECK (grain IN (15, 60, 1440))`);
      await q.query(
        `INSERT INTO ${table} (workspace_id, grain, bucket, ${key}, ${counts.join(', ')})
         SELECT workspace_id, 1440, date_trunc('day', bucket, 'UTC'), ${key}, ${counts.map((c) => `sum(${c})`).join(', ')}
           FROM ${table} WHERE grain = 60
          GROUP BY workspace_id, date_trunc('day', bucket, 'UTC'), ${key}`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table } of ROLLUPS) {
      await q.query(`DELETE FROM ${table} WHERE grain = 1440`);
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_grain_check, ADD CONSTRAINT ${table}_grain_check CHECK (grain IN (15, 60))`);
    }
  }
}
