import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `idempotent_requests`: the answers of admin POSTs sent with an `Idempotency-Key`, so a retry gets the
 * first answer instead of acting twice. A key belongs to its caller (`scope`: the user or the API key);
 * the row exists from the first request's start (`status` NULL while it runs) and keeps the answer for a
 * day. It goes with its workspace, and with the user or key it belongs to.
 */
export class IdempotentRequests1795256600000 implements MigrationInterface {
  name = 'IdempotentRequests1795256600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotent_requests (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        api_key_id uuid REFERENCES api_keys(id) ON DELETE CASCADE,
        workspace_id uuid REFERENCES workspaces(id) ON DELETE CASCADE,
        status int,
        response json,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key),
        CHECK ((user_id IS NULL) <> (api_key_id IS NULL)),
        CHECK ((status IS NULL) = (response IS NULL))
      )`);
    await q.query(`CREATE INDEX idempotent_requests_created_at ON idempotent_requests (created_at)`);
    // The cascades from users, keys and workspaces look their rows up by these.
    await q.query(`CREATE INDEX idempotent_requests_user ON idempotent_requests (user_id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX idempotent_requests_api_key ON idempotent_requests (api_key_id) WHERE api_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX idempotent_requests_workspace ON idempotent_requests (workspace_id) WHERE workspace_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotent_requests`);
  }
}
