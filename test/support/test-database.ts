import pg from 'pg';
import PgBoss from 'pg-boss';
import { migrate } from '../../src/database/data-source.js';
import { withDatabase } from '../../src/database/database-url.js';

// Set by global-setup.mjs: the server to use, and the name of this run's template database on it.
const ADMIN_URL_ENV = 'LEADNEST_TEST_ADMIN_URL';
const TEMPLATE_ENV = 'LEADNEST_TEST_TEMPLATE';
// Any number that is ours alone: one test file builds the template while the others wait.
const TEMPLATE_LOCK = 7_341_002;

function settings(): { adminUrl: string; template: string } {
  const adminUrl = process.env[ADMIN_URL_ENV];
  const template = process.env[TEMPLATE_ENV];
  if (!adminUrl || !template) throw new Error('test database not prepared: run the tests through jest (global-setup.mjs)');
  return { adminUrl, template };
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: settings().adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Migrations once per run, into a template database with pg-boss's schema too. */
async function ensureTemplate(): Promise<void> {
  const { adminUrl, template } = settings();
  await withAdmin(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (rowCount) return;
      const building = `${template}_building`;
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(building)}`);
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(building)}`);
      const url = withDatabase(adminUrl, building);
      await migrate(url);
      const boss = new PgBoss({ connectionString: url, schema: 'pgboss', max: 1, supervise: false, schedule: false });
      await boss.start();
      await boss.stop({ graceful: false, wait: true });
      // Renamed only when complete, so a half-built template is never cloned.
      await client.query(`ALTER DATABASE ${pg.escapeIdentifier(building)} RENAME TO ${pg.escapeIdentifier(template)}`);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  });
}

/** A database of its own for one test file, cloned from the migrated template (fast: no migrations). */
export async function cloneTemplate(name: string): Promise<string> {
  await ensureTemplate();
  const { adminUrl, template } = settings();
  await withAdmin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
        return;
      } catch (err) {
        // Two files cloning at the same instant can briefly see each other on the template.
        if (attempt >= 20 || !String((err as Error).message).includes('being accessed by other users')) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  return withDatabase(adminUrl, name);
}

/** An empty database, no migrations run: for tests of the migrations themselves. */
export async function createEmptyDatabase(name: string): Promise<string> {
  const { adminUrl } = settings();
  await withAdmin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}
