import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The funnel report over long windows and big funnels:
 *
 * - `funnel_stage_counts_daily`: the 15-minute counts summed per UTC day, kept by the same statement
 *   triggers. A window reads whole days from here and only its partial first and last day from the
 *   15-minute slots (30 days: about 1,000 rows instead of 65,000 on the demo data).
 * - `funnel_stage_history.sample`: 0-63 from the contact id (random in a v4 UUID), and an index that
 *   reads the timed first entries of chosen samples only. The report takes exact medians while a
 *   window holds few timed entries, and a deterministic sample of whole contacts above that.
 *
 * Runs forward on a database with data: the column is computed for existing rows (a table rewrite)
 * and the daily table is filled from the 15-minute one.
 */
export class FunnelReportScale1795256100000 implements MigrationInterface {
  name = 'FunnelReportScale1795256100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE funnel_stage_counts_daily (
        funnel_id uuid NOT NULL REFERENCES funnels (id) ON DELETE CASCADE,
        day date NOT NULL,
        stage_id uuid NOT NULL,
        channel text NOT NULL,
        workspace_id uuid NOT NULL,
        entered integer NOT NULL DEFAULT 0,
        still_in integer NOT NULL DEFAULT 0,
        PRIMARY KEY (funnel_id, day, stage_id, channel)
      )`);
    await q.query(`
      INSERT INTO funnel_stage_counts_daily (funnel_id, day, stage_id, channel, workspace_id, entered, still_in)
      SELECT funnel_id, (slot AT TIME ZONE 'UTC')::date, stage_id, channel, min(workspace_id::text)::uuid, sum(entered), sum(still_in)
        FROM funnel_stage_counts
       GROUP BY 1, 2, 3, 4`);
    await q.query(historyCounted([SLOTS, DAYS]));
    await q.query(contactsCounted([SLOTS, DAYS]));

    await q.query(`
      ALTER TABLE funnel_stage_history
        ADD COLUMN sample smallint GENERATED ALWAYS AS ((get_byte(uuid_send(contact_id), 15) % 64)::smallint) STORED`);
    await q.query(`
      CREATE INDEX funnel_stage_history_sample_idx ON funnel_stage_history (funnel_id, sample, entered_at)
        INCLUDE (workspace_id, stage_id, channel, seconds_from_previous) WHERE first_entry AND seconds_from_previous IS NOT NULL`);
    // The medians read the sample index, whether they take every sample or a few.
    await q.query(`DROP INDEX funnel_stage_history_timed_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX funnel_stage_history_timed_idx ON funnel_stage_history (funnel_id, entered_at)
       INCLUDE (workspace_id, stage_id, channel, seconds_from_previous) WHERE first_entry AND seconds_from_previous IS NOT NULL`);
    await q.query(`DROP INDEX funnel_stage_history_sample_idx`);
    await q.query(`ALTER TABLE funnel_stage_history DROP COLUMN sample`);
    // Back to the functions of 1795255000000-Funnels.
    await q.query(historyCounted([SLOTS]));
    await q.query(contactsCounted([SLOTS]));
    await q.query(`DROP TABLE funnel_stage_counts_daily`);
  }
}

/** A time grain of the funnel counts: its table, key column, and how an entry time maps to it. */
interface Grain {
  table: string;
  key: string;
  of: (at: string) => string;
}

const SLOTS: Grain = { table: 'funnel_stage_counts', key: 'slot', of: (at) => `funnel_counts_slot(${at})` };
const DAYS: Grain = { table: 'funnel_stage_counts_daily', key: 'day', of: (at) => `(${at} AT TIME ZONE 'UTC')::date` };

// Increments are upserts in key order (two writers never lock the same rows in opposite orders);
// decrements only update: a row already gone with its funnel stays gone. Grains in the order given.
const increments = (column: string, where: string, grains: Grain[]) =>
  grains
    .map(
      (g) => `
      INSERT INTO ${g.table} AS c (funnel_id, ${g.key}, stage_id, channel, workspace_id, ${column})
      SELECT funnel_id, ${g.of('entered_at')}, stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows ${where}
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, ${g.key}, stage_id, channel) DO UPDATE SET ${column} = c.${column} + EXCLUDED.${column};`,
    )
    .join('');

const decrements = (column: string, where: string, grains: Grain[]) =>
  grains
    .map(
      (g) => `
      UPDATE ${g.table} c SET ${column} = c.${column} - d.n
        FROM (SELECT funnel_id, ${g.of('entered_at')} AS ${g.key}, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows ${where} GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.${g.key} = d.${g.key} AND c.stage_id = d.stage_id AND c.channel = d.channel;`,
    )
    .join('');

/** First entries per grain (the history's statement trigger). */
const historyCounted = (grains: Grain[]) => `
  CREATE OR REPLACE FUNCTION funnel_history_counted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN${increments('entered', 'WHERE first_entry', grains)}
    ELSE${decrements('entered', 'WHERE first_entry', grains)}
    END IF;
    RETURN NULL;
  END $$`;

/** Contacts still in a stage per grain of their entry (the current stages' statement trigger). */
const contactsCounted = (grains: Grain[]) => `
  CREATE OR REPLACE FUNCTION funnel_contacts_counted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN${decrements('still_in', '', grains)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN${increments('still_in', '', grains)}
    END IF;
    RETURN NULL;
  END $$`;
