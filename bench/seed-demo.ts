import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AppModule } from '../src/app.module.js';
import { readRuntimeConfig } from '../src/config/runtime-config.js';
import { migrate } from '../src/database/data-source.js';
import { startDatabase } from '../src/database/database.runtime.js';
import { seedDemo } from './demo-data.js';

/**
 * `npm run seed:demo -- --contacts 100000 --events 10000000 [--days 180]`: a demo workspace in the
 * database of DATABASE_URL, or in the embedded one `npm start` uses. Prints how to sign in.
 */

const USAGE = 'usage: npm run seed:demo -- [--contacts 100000] [--events 1000000] [--days 180]';

function count(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${value}: expected an integer ≥ ${min}\n${USAGE}`);
  return n;
}

const log = (line: string) => process.stderr.write(`[seed] ${line}\n`);

const { values } = parseArgs({
  options: { contacts: { type: 'string' }, events: { type: 'string' }, days: { type: 'string' } },
  strict: true,
});
const options = {
  contacts: count(values.contacts, 100_000, 'contacts', 1),
  events: count(values.events, 1_000_000, 'events', 0),
  days: count(values.days, 180, 'days', 1),
  log,
};

const started = performance.now();
// A worker is not needed: the seed runs the rollups itself. Logs stay quiet.
const config = readRuntimeConfig({ ROLE: 'api', LOG_LEVEL: 'warn' });
const db = await startDatabase(config, log);
try {
  config.DATABASE_URL = db.url;
  const applied = await migrate(db.url);
  if (applied.length > 0) log(`migrations applied: ${applied.join(', ')}`);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    log(`seeding ${options.contacts} contacts and ${options.events} events over ${options.days} days`);
    const demo = await seedDemo(app, options);
    const total = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      [
        '',
        `Demo workspace ready in ${total} s (${Object.entries(demo.timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')})`,
        '',
        `  sign in:         POST /v1/auth/login {"email": "${demo.email}", "password": "${demo.password}"}`,
        `  workspace:       ${demo.workspaceId}`,
        `  publishable key: ${demo.publishableKey} (for <script src="/embed.js" data-key=…>)`,
        `  analytics:       GET /v1/workspaces/${demo.workspaceId}/analytics/overview?tz=Europe/Berlin`,
        '',
      ].join('\n'),
    );
  } finally {
    await app.close();
  }
} finally {
  await db.stop();
}
