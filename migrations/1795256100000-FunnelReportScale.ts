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
    await q.query(HISTORY_COUNTED_WITH_DAYS);
    await q.query(CONTACTS_COUNTED_WITH_DAYS);

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
    await q.query(HISTORY_COUNTED_SLOTS_ONLY);
    await q.query(CONTACTS_COUNTED_SLOTS_ONLY);
    await q.query(`DROP TABLE funnel_stage_counts_daily`);
  }
}

// Increments are upserts in key order (two writers never lock the same rows in opposite orders);
// decrements only update: a row already gone with its funnel stays gone. Slots first, then days.
const HISTORY_COUNTED_WITH_DAYS = `
  CREATE OR REPLACE FUNCTION funnel_history_counted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO funnel_stage_counts AS c (funnel_id, slot, stage_id, channel, workspace_id, entered)
      SELECT funnel_id, funnel_counts_slot(entered_at), stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows WHERE first_entry
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, slot, stage_id, channel) DO UPDATE SET entered = c.entered + EXCLUDED.entered;
      INSERT INTO funnel_stage_counts_daily AS c (funnel_id, day, stage_id, channel, workspace_id, entered)
      SELECT funnel_id, (entered_at AT TIME ZONE 'UTC')::date, stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows WHERE first_entry
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, day, stage_id, channel) DO UPDATE SET entered = c.entered + EXCLUDED.entered;
    ELSE
      UPDATE funnel_stage_counts c SET entered = c.entered - d.n
        FROM (SELECT funnel_id, funnel_counts_slot(entered_at) AS slot, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows WHERE first_entry GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.slot = d.slot AND c.stage_id = d.stage_id AND c.channel = d.channel;
      UPDATE funnel_stage_counts_daily c SET entered = c.entered - d.n
        FROM (SELECT funnel_id, (entered_at AT TIME ZONE 'UTC')::date AS day, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows WHERE first_entry GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.day = d.day AND c.stage_id = d.stage_id AND c.channel = d.channel;
    END IF;
    RETURN NULL;
  END $$`;

const CONTACTS_COUNTED_WITH_DAYS = `
  CREATE OR REPLACE FUNCTION funnel_contacts_counted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      UPDATE funnel_stage_counts c SET still_in = c.still_in - d.n
        FROM (SELECT funnel_id, funnel_counts_slot(entered_at) AS slot, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.slot = d.slot AND c.stage_id = d.stage_id AND c.channel = d.channel;
      UPDATE funnel_stage_counts_daily c SET still_in = c.still_in - d.n
        FROM (SELECT funnel_id, (entered_at AT TIME ZONE 'UTC')::date AS day, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.day = d.day AND c.stage_id = d.stage_id AND c.channel = d.channel;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      INSERT INTO funnel_stage_counts AS c (funnel_id, slot, stage_id, channel, workspace_id, still_in)
      SELECT funnel_id, funnel_counts_slot(entered_at), stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, slot, stage_id, channel) DO UPDATE SET still_in = c.still_in + EXCLUDED.still_in;
      INSERT INTO funnel_stage_counts_daily AS c (funnel_id, day, stage_id, channel, workspace_id, still_in)
      SELECT funnel_id, (entered_at AT TIME ZONE 'UTC')::date, stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, day, stage_id, channel) DO UPDATE SET still_in = c.still_in + EXCLUDED.still_in;
    END IF;
    RETURN NULL;
  END $$`;

// The versions of 1795255000000-Funnels, for down().
const HISTORY_COUNTED_SLOTS_ONLY = `
  CREATE OR REPLACE FUNCTION funnel_history_counted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO funnel_stage_counts AS c (funnel_id, slot, stage_id, channel, workspace_id, entered)
      SELECT funnel_id, funnel_counts_slot(entered_at), stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows WHERE first_entry
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, slot, stage_id, channel) DO UPDATE SET entered = c.entered + EXCLUDED.entered;
    ELSE
      UPDATE funnel_stage_counts c SET entered = c.entered - d.n
        FROM (SELECT funnel_id, funnel_counts_slot(entered_at) AS slot, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows WHERE first_entry GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.slot = d.slot AND c.stage_id = d.stage_id AND c.channel = d.channel;
    END IF;
    RETURN NULL;
  END $$`;

const CONTACTS_COUNTED_SLOTS_ONLY = `
  CREATE OR REPLACE FUNCTION funnel_contacts_counted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      UPDATE funnel_stage_counts c SET still_in = c.still_in - d.n
        FROM (SELECT funnel_id, funnel_counts_slot(entered_at) AS slot, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                FROM old_rows GROUP BY 1, 2, 3, 4) d
       WHERE c.funnel_id = d.funnel_id AND c.slot = d.slot AND c.stage_id = d.stage_id AND c.channel = d.channel;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      INSERT INTO funnel_stage_counts AS c (funnel_id, slot, stage_id, channel, workspace_id, still_in)
      SELECT funnel_id, funnel_counts_slot(entered_at), stage_id, coalesce(channel, ''), workspace_id, count(*)
        FROM new_rows
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
      ON CONFLICT (funnel_id, slot, stage_id, channel) DO UPDATE SET still_in = c.still_in + EXCLUDED.still_in;
    END IF;
    RETURN NULL;
  END $$`;
