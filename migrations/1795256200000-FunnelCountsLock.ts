import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Writers of a workspace's funnel counts take turns. The count triggers on `funnel_stage_history` and
 * `funnel_contacts` update shared rollup rows (one per funnel, time slot, stage and channel), and one
 * transaction reaches them through several statements: history first, then current stages, whose
 * decrements touch rows an entry of another transaction may have locked already. Two writers at once
 * (the rule engine's lanes, a manual move, an erasure) could so lock the same rows in opposite orders.
 *
 * A statement trigger on each of those events now takes the workspace's transaction-level advisory
 * lock first; its name sorts before the count triggers', so it fires before them. Whoever holds the
 * lock has every count row of the workspace to itself until it commits, and it is taken at the end of
 * the writing statement, so everything before (the rows themselves, indexes, foreign keys) still runs
 * side by side.
 */
export class FunnelCountsLock1795256200000 implements MigrationInterface {
  name = 'FunnelCountsLock1795256200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION funnel_counts_lock() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- In workspace order: a statement spanning workspaces (none does today) cannot deadlock either.
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_advisory_xact_lock(hashtext('funnel_counts'), hashtext(w::text)) FROM (SELECT DISTINCT workspace_id AS w FROM old_rows ORDER BY 1) s;
        ELSE
          PERFORM pg_advisory_xact_lock(hashtext('funnel_counts'), hashtext(w::text)) FROM (SELECT DISTINCT workspace_id AS w FROM new_rows ORDER BY 1) s;
        END IF;
        RETURN NULL;
      END $$`);
    for (const { table, prefix, events } of COUNTED) {
      for (const event of events) {
        await q.query(`
          CREATE TRIGGER ${prefix}_a_counts_lock_${event.toLowerCase()} AFTER ${event} ON ${table}
          REFERENCING ${event === 'DELETE' ? 'OLD TABLE AS old_rows' : 'NEW TABLE AS new_rows'} FOR EACH STATEMENT EXECUTE FUNCTION funnel_counts_lock()`);
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, prefix, events } of COUNTED) {
      for (const event of events) await q.query(`DROP TRIGGER ${prefix}_a_counts_lock_${event.toLowerCase()} ON ${table}`);
    }
    await q.query(`DROP FUNCTION funnel_counts_lock()`);
  }
}

// The events with count triggers (1795255000000-Funnels). Lock trigger names sort before theirs
// (funnel_history_counted_*, funnel_contacts_counted_*): PostgreSQL fires a table's triggers for one
// event in name order.
const COUNTED = [
  { table: 'funnel_stage_history', prefix: 'funnel_history', events: ['INSERT', 'DELETE'] },
  { table: 'funnel_contacts', prefix: 'funnel_contacts', events: ['INSERT', 'UPDATE', 'DELETE'] },
] as const;
