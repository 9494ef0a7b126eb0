import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `raise_error(sqlstate, message)`: lets a single statement abort itself, all of its writes undone,
 * with an error code the application recognises. The public submission statement uses it when a
 * concurrent request with the same Idempotency-Key committed first (see SubmissionsRepository).
 * VOLATILE and plpgsql, so the planner never evaluates it ahead of the row that calls it.
 */
export class StatementErrors1795256000000 implements MigrationInterface {
  name = 'StatementErrors1795256000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION raise_error(sqlstate text, message text) RETURNS text
        LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION raise_error(text, text)`);
  }
}
