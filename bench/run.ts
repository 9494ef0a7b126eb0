import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { migrate } from '../src/database/data-source.js';
import { ensureDatabase } from '../src/database/database-url.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { freePort, log, startServer, waitUntilReady, type ServerProcess } from './processes.js';
import { failures, formatTable, ratio, toMeasurement, type Measurement, type ScenarioResult } from './report.js';
import { scenarios, sendOnce, toAutocannonRequest, type BenchRequest, type Scenario, type Seed } from './scenarios.js';

/**
 * `npm run bench`: the real app (a child process, production settings) next to a raw Fastify + pg
 * baseline doing the same SQL, on a fresh database, loaded one after the other with autocannon.
 * Env: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (32), BENCH_WARMUP (s, 2), BENCH_DATABASE_URL
 * (a server to create the bench database on; unset: an embedded PostgreSQL just for this run).
 */

const POOL_SIZE = 10;
const READY_TIMEOUT_MS = 60_000;
const EMBEDDED_DIR = './.data/bench-postgres';
const EMBEDDED_PORT = 54339;

interface Settings {
  durationS: number;
  warmupS: number;
  connections: number;
  serverUrl: string | undefined;
}

function positive(name: string, fallback: number, integer: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name}=${raw}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return n;
}

/** How busy the CPUs are over `ms`, in percent: other work on the machine skews every number. */
async function cpuBusyPercent(ms: number): Promise<number> {
  const sample = () => cpus().reduce(
    (acc, c) => ({ idle: acc.idle + c.times.idle, total: acc.total + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }),
    { idle: 0, total: 0 },
  );
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  const total = b.total - a.total;
  return total > 0 ? Math.round((100 * (total - (b.idle - a.idle))) / total) : 0;
}

function readSettings(): Settings {
  return {
    durationS: positive('BENCH_DURATION', 10, false),
    warmupS: positive('BENCH_WARMUP', 2, false),
    connections: positive('BENCH_CONNECTIONS', 32, true),
    serverUrl: process.env.BENCH_DATABASE_URL || undefined,
  };
}

/** Undo steps, run last-in first-out exactly once: on success, on error and on Ctrl-C. */
class Cleanup {
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];
  private done: Promise<void> | undefined;

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (err) {
          log(`cleanup "${step.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })();
    return this.done;
  }
}

// Credentials stay out of the report.
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    // FORCE: a connection left by a killed child must not keep the database alive.
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A database server for this run: the given one, or an embedded PostgreSQL removed on stop. */
async function startDatabaseServer(settings: Settings, cleanup: Cleanup): Promise<{ url: string; label: string; embedded: boolean }> {
  if (settings.serverUrl) return { url: settings.serverUrl, label: redact(settings.serverUrl), embedded: false };
  log(`starting the embedded PostgreSQL in ${EMBEDDED_DIR} on port ${EMBEDDED_PORT}`);
  const lines: string[] = [];
  const server = await startEmbeddedPostgres({
    dir: EMBEDDED_DIR,
    port: EMBEDDED_PORT,
    persistent: false,
    // Chatty: kept quiet unless something fails.
    log: (line) => {
      lines.push(line);
      if (lines.length > 40) lines.shift();
    },
  }).catch((err: unknown) => {
    throw new Error(`embedded PostgreSQL did not start: ${String(err)}\n  ${lines.join('\n  ')}`);
  });
  cleanup.add('stop embedded PostgreSQL', () => server.stop());
  return { url: server.url, label: `embedded PostgreSQL (port ${EMBEDDED_PORT})`, embedded: true };
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value) throw new Error(`seeding: ${what} missing in the app's answer`);
  return value;
}

async function postJson(url: string, body: object, headers: Record<string, string>, expected: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const answer = await res.text();
  if (res.status !== expected) throw new Error(`seeding: POST ${new URL(url).pathname} answered ${res.status}, expected ${expected}: ${answer.slice(0, 500)}`);
  return record(JSON.parse(answer));
}

/** A user, their workspace and a viewer secret key, created through the app's public API. */
async function seed(appUrl: string): Promise<Seed> {
  const signup = await postJson(
    `${appUrl}/v1/auth/signup`,
    { email: `bench-${Date.now()}@example.com`, password: randomBytes(18).toString('base64url'), workspaceName: 'Bench Workspace' },
    {},
    201,
  );
  const accessToken = text(signup.accessToken, 'accessToken');
  const userId = text(record(signup.user).id, 'user.id');
  const workspaceId = text(record(signup.workspace).id, 'workspace.id');
  const key = await postJson(
    `${appUrl}/v1/workspaces/${workspaceId}/api-keys`,
    { name: 'bench', kind: 'secret', role: 'viewer' },
    { authorization: `Bearer ${accessToken}` },
    201,
  );
  return { userId, accessToken, workspaceId, secretKey: text(key.key, 'key') };
}

/** Before loading: both sides answer 2xx, and the same JSON where the scenario says so. */
async function checkEquivalent(scenario: Scenario, seedData: Seed, app: ServerProcess, raw: ServerProcess): Promise<void> {
  const [a, r] = await Promise.all([sendOnce(app.url, scenario.app(seedData)), sendOnce(raw.url, scenario.raw(seedData))]);
  const ok = (s: number) => s >= 200 && s < 300;
  if (!ok(a.status) || !ok(r.status) || a.status !== r.status) {
    throw new Error(`${scenario.name}: app answered ${a.status} (${a.body.slice(0, 300)}), raw answered ${r.status} (${r.body.slice(0, 300)})`);
  }
  if (scenario.compare === 'json' && !isDeepStrictEqual(JSON.parse(a.body), JSON.parse(r.body))) {
    throw new Error(`${scenario.name}: the baseline does not answer like the app\n  app: ${a.body}\n  raw: ${r.body}`);
  }
}

function load(url: string, request: BenchRequest, seconds: number, connections: number): Promise<autocannon.Result> {
  // A fresh request object per run: autocannon caches its encoded buffer on it.
  return autocannon({ url, connections, duration: seconds, requests: [toAutocannonRequest(request)] });
}

interface SideRun {
  measured: Measurement;
  warmupNon2xx: number;
  warmupErrors: number;
}

async function measure(label: string, url: string, request: BenchRequest, settings: Settings): Promise<SideRun> {
  log(`${label}: warm-up ${settings.warmupS} s, then ${settings.durationS} s with ${settings.connections} connections`);
  const warmup = await load(url, request, settings.warmupS, settings.connections);
  const result = await load(url, request, settings.durationS, settings.connections);
  const measured = toMeasurement(result);
  log(`${label}: ${measured.requestsPerSecond.toFixed(1)} req/s, p50 ${measured.p50Ms} ms, p99 ${measured.p99Ms} ms`);
  return { measured, warmupNon2xx: warmup.non2xx, warmupErrors: warmup.errors };
}

async function runScenario(scenario: Scenario, seedData: Seed, app: ServerProcess, raw: ServerProcess, settings: Settings): Promise<ScenarioResult> {
  // Sequential, never concurrent: each side gets the whole machine while it is measured.
  const a = await measure(`${scenario.name} [app]`, app.url, scenario.app(seedData), settings);
  const r = await measure(`${scenario.name} [raw]`, raw.url, scenario.raw(seedData), settings);
  return {
    scenario: scenario.name,
    app: a.measured,
    raw: r.measured,
    warmupNon2xx: a.warmupNon2xx + r.warmupNon2xx,
    warmupErrors: a.warmupErrors + r.warmupErrors,
  };
}

async function bench(settings: Settings, cleanup: Cleanup): Promise<number> {
  // Not a load average: that still counts the previous bench run for a minute.
  const busyBefore = await cpuBusyPercent(1000);
  const db = await startDatabaseServer(settings, cleanup);
  const dbName = `leadnest_bench_${Date.now()}`;
  const url = await ensureDatabase(db.url, dbName);
  // The embedded cluster is deleted whole on stop: dropping first would be wasted work (and fails
  // when a Ctrl-C already reached its postgres process).
  if (!db.embedded) cleanup.add(`drop database ${dbName}`, () => dropDatabase(db.url, dbName));
  log(`database ${dbName} on ${db.label}`);
  await migrate(url);

  const jwtSecret = randomBytes(36).toString('base64url'); // 48 characters
  // An empty working directory: a developer's .env must not change what is measured.
  const cwd = mkdtempSync(join(tmpdir(), 'leadnest-bench-'));
  cleanup.add('remove the working directory', () => rmSync(cwd, { recursive: true, force: true }));

  const appPort = await freePort();
  const app = startServer('app', fileURLToPath(new URL('../src/main.js', import.meta.url)), appPort, cwd, {
    DATABASE_URL: url,
    PORT: String(appPort),
    HOST: '127.0.0.1',
    ROLE: 'api',
    NODE_ENV: 'production',
    JWT_SECRET: jwtSecret,
    LOG_LEVEL: 'warn',
    LOG_REQUESTS: 'false',
    MIGRATIONS_RUN: 'false',
    SIGNUP_LIMIT_PER_IP: '1000',
    DATABASE_POOL_SIZE: String(POOL_SIZE),
  });
  cleanup.add('stop the app', async () => {
    // A graceful shutdown exits 0; anything else means SIGTERM cut work short.
    const code = await app.stop();
    if (code !== 0) log(`the app exited with code ${code} on SIGTERM`);
  });
  await waitUntilReady(app, '/health/ready', READY_TIMEOUT_MS);
  log(`app ready on ${app.url}`);

  const seedData = await seed(app.url);
  log(`seeded workspace ${seedData.workspaceId}`);

  const rawPort = await freePort();
  const raw = startServer('raw', fileURLToPath(new URL('./baseline.js', import.meta.url)), rawPort, cwd, {
    DATABASE_URL: url,
    PORT: String(rawPort),
    HOST: '127.0.0.1',
    JWT_SECRET: jwtSecret,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
  });
  cleanup.add('stop the baseline', async () => {
    await raw.stop();
  });
  await waitUntilReady(raw, '/health', READY_TIMEOUT_MS);
  log(`baseline ready on ${raw.url}`);

  for (const scenario of scenarios) await checkEquivalent(scenario, seedData, app, raw);

  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, seedData, app, raw, settings));

  const problems = results.flatMap(failures);
  process.stdout.write(
    `\nLeadNest bench: ${settings.durationS} s per run after ${settings.warmupS} s warm-up, ${settings.connections} connections, ` +
      `pool ${POOL_SIZE}, ${availableParallelism()} CPUs (${busyBefore}% busy before start), node ${process.version}, ${db.label}\n\n` +
      `${formatTable(results)}\n\n`,
  );
  const summary = {
    ok: problems.length === 0,
    durationS: settings.durationS,
    warmupS: settings.warmupS,
    connections: settings.connections,
    poolSize: POOL_SIZE,
    cpus: availableParallelism(),
    cpuBusyBeforePercent: busyBefore,
    node: process.version,
    results: results.map((r) => ({ ...r, ratio: Number(ratio(r).toFixed(3)) })),
    problems,
  };
  if (problems.length > 0) process.stdout.write(`FAIL:\n  ${problems.join('\n  ')}\n\n`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return problems.length === 0 ? 0 : 1;
}

const cleanup = new Cleanup();
let interrupted = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(code));
  });
}

let exitCode = 1;
try {
  exitCode = await bench(readSettings(), cleanup);
} catch (err) {
  if (!interrupted) log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await cleanup.run();
}
process.exit(exitCode);
