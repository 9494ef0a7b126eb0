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
import { cpuProfileArgs, freePort, log, startServer, waitUntilReady, type ServerProcess } from './processes.js';
import { pacedLoad } from './paced.js';
import { cpuPerRequest, postmasterPid, readCpu, type CpuPerRequest } from './cpu.js';
import {
  checkTargets,
  failures,
  formatCpuTable,
  formatItems,
  formatTable,
  formatTargets,
  ratio,
  toMeasurement,
  type Measurement,
  type ScenarioResult,
  type StatementCounts,
} from './report.js';
import { scenarios, sendOnce, toAutocannonRequest, type BenchRequest, type Scenario, type Seed } from './scenarios.js';
import { firstDifference, StatementLog, units } from './statements.js';

/**
 * `npm run bench`: the real app (a child process, production settings) next to a raw Fastify + pg
 * baseline doing the same SQL, on a fresh database, loaded one after the other with autocannon.
 * Env: BENCH_DURATION (s, 10), BENCH_CONNECTIONS (32), BENCH_WARMUP (s, 2), BENCH_DATABASE_URL
 * (a server to create the bench database on; unset: an embedded PostgreSQL just for this run),
 * BENCH_ONLY (comma-separated parts of scenario names: run only those; none matching skips this
 * part of `npm run bench`, for the analytics bench that follows), BENCH_APP_CPU_PROF (a
 * directory: the app runs with --cpu-prof and writes its profile there when it stops).
 */

const POOL_SIZE = 10;
const READY_TIMEOUT_MS = 60_000;
const EMBEDDED_DIR = './.data/bench-postgres';
const EMBEDDED_PORT = 54339;
// Public submissions are rate-limited per IP and per form; every bench request comes from one IP to
// one form. Limits this high still run the counter upsert (both keys, one statement), but never answer 429.
const SUBMISSION_LIMIT = '100000000';

interface Settings {
  durationS: number;
  warmupS: number;
  connections: number;
  serverUrl: string | undefined;
  only: string[];
  appCpuProfileDir: string | undefined;
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
    only: (process.env.BENCH_ONLY ?? '').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean),
    appCpuProfileDir: process.env.BENCH_APP_CPU_PROF || undefined,
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
async function startDatabaseServer(
  settings: Settings,
  cleanup: Cleanup,
): Promise<{ url: string; label: string; embedded: boolean; statementLog: StatementLog | null; postmaster: number | null }> {
  if (settings.serverUrl) return { url: settings.serverUrl, label: redact(settings.serverUrl), embedded: false, statementLog: null, postmaster: null };
  log(`starting the embedded PostgreSQL in ${EMBEDDED_DIR} on port ${EMBEDDED_PORT}`);
  const lines: string[] = [];
  let statementLog: StatementLog | null = null;
  const server = await startEmbeddedPostgres({
    dir: EMBEDDED_DIR,
    port: EMBEDDED_PORT,
    persistent: false,
    // Chatty: kept quiet unless something fails.
    log: (line) => {
      lines.push(line);
      if (lines.length > 40) lines.shift();
      statementLog?.feed(line);
    },
  }).catch((err: unknown) => {
    throw new Error(`embedded PostgreSQL did not start: ${String(err)}\n  ${lines.join('\n  ')}`);
  });
  cleanup.add('stop embedded PostgreSQL', () => server.stop());
  statementLog = new StatementLog(server.url);
  return {
    url: server.url,
    label: `embedded PostgreSQL (port ${EMBEDDED_PORT})`,
    embedded: true,
    // Its stderr comes to us and we may reconfigure it: the statement comparison and CPU accounting need both.
    statementLog,
    postmaster: postmasterPid(EMBEDDED_DIR),
  };
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

// The lead-capture scenarios' form: the CreateFormDto a marketer would send.
const CONSENT_KEY = 'newsletter';
const BENCH_FORM = {
  name: 'Bench spring giveaway',
  fields: [
    { key: 'email', type: 'email', label: 'Email', required: true },
    { key: 'first_name', type: 'first_name', label: 'First name' },
  ],
  consents: [{ key: CONSENT_KEY, channel: 'email', text: 'Email me the newsletter. I can unsubscribe at any time.' }],
  doubleOptIn: false,
  // The bench sends no startedAt; 0 says so explicitly.
  minFillSeconds: 0,
};

/** A user, their workspace, a viewer secret key, a form and a publishable key, created through the app's API. */
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
  const owner = { authorization: `Bearer ${accessToken}` };
  const form = await postJson(`${appUrl}/v1/workspaces/${workspaceId}/forms`, BENCH_FORM, owner, 201);
  const publishable = await postJson(`${appUrl}/v1/workspaces/${workspaceId}/api-keys`, { name: 'bench-browser', kind: 'publishable' }, owner, 201);
  return {
    userId,
    accessToken,
    workspaceId,
    secretKey: text(key.key, 'key'),
    formId: text(form.id, 'form id'),
    consentKey: CONSENT_KEY,
    publishableKey: text(publishable.key, 'publishable key'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseJson(body: string, who: string, scenario: Scenario): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`${scenario.name}: ${who} did not answer JSON: ${body.slice(0, 300)}`);
  }
}

/** Both sides answer 2xx with the same status, and the same JSON (or shape) where the scenario says so. */
function compareAnswers(scenario: Scenario, a: { status: number; body: string }, r: { status: number; body: string }): void {
  const ok = (s: number) => s >= 200 && s < 300;
  if (!ok(a.status) || !ok(r.status) || a.status !== r.status) {
    throw new Error(`${scenario.name}: app answered ${a.status} (${a.body.slice(0, 300)}), raw answered ${r.status} (${r.body.slice(0, 300)})`);
  }
  if (scenario.compare === 'status') return;
  const app = parseJson(a.body, 'the app', scenario);
  const raw = parseJson(r.body, 'the baseline', scenario);
  const differ = () => new Error(`${scenario.name}: the baseline does not answer like the app\n  app: ${a.body}\n  raw: ${r.body}`);
  if (scenario.compare === 'json') {
    if (!isDeepStrictEqual(app, raw)) throw differ();
    return;
  }
  // 'shape': the same keys; values equal except the volatile ones (fresh ids).
  const appObject = record(app);
  const rawObject = record(raw);
  const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
  if (!isDeepStrictEqual(keys(appObject), keys(rawObject))) throw differ();
  const volatile = new Set(scenario.volatileKeys ?? []);
  for (const k of keys(appObject)) {
    if (volatile.has(k)) {
      if (typeof appObject[k] !== typeof rawObject[k]) throw differ();
    } else if (!isDeepStrictEqual(appObject[k], rawObject[k])) {
      throw differ();
    }
  }
}

const APP_NAME = 'leadnest';
const RAW_NAME = 'leadnest-baseline';

/**
 * Before loading: one request to each side (warms caches, and a first key use records last_used_at
 * so that write does not land in what is compared), then one more each with the server logging every
 * statement: the app and the baseline must send the same statements, in the same transaction blocks.
 * A different answer stops the run; different SQL is logged and fails the run at the end, but the
 * scenario is still measured (src changes under the baseline; its numbers are marked, not lost).
 * Returns the number of statements per request of each side (null when the log is not readable).
 */
async function checkEquivalent(
  scenario: Scenario,
  seedData: Seed,
  app: ServerProcess,
  raw: ServerProcess,
  statementLog: StatementLog | null,
): Promise<StatementCounts | null> {
  const [a, r] = await Promise.all([sendOnce(app.url, scenario.app(seedData)), sendOnce(raw.url, scenario.raw(seedData))]);
  compareAnswers(scenario, a, r);
  if (!statementLog) return null;
  await sleep(200);
  const appSide = await statementLog.during(APP_NAME, () => sendOnce(app.url, scenario.app(seedData)));
  const rawSide = await statementLog.during(RAW_NAME, () => sendOnce(raw.url, scenario.raw(seedData)));
  compareAnswers(scenario, appSide.result, rawSide.result);
  if (appSide.statements.length === 0) throw new Error(`${scenario.name}: no statement of the app found in the server log`);
  const difference = firstDifference(units(appSide.statements), units(rawSide.statements));
  if (difference) log(`${scenario.name}: the baseline does not send the app's SQL (bench/baseline.ts needs updating)\n${difference}`);
  return { app: appSide.statements.length, raw: rawSide.statements.length, same: difference === null };
}

function load(url: string, request: BenchRequest, seconds: number, connections: number, overallRate: number | undefined): Promise<autocannon.Result> {
  // A fresh request object per run: autocannon caches its encoded buffer on it. With overallRate it
  // sends each second's requests in one burst (see bench/paced.ts for the steady alternative).
  return autocannon({ url, connections, duration: seconds, overallRate, requests: [toAutocannonRequest(request)] });
}

interface SideRun {
  measured: Measurement;
  cpu: CpuPerRequest;
  warmupNon2xx: number;
  warmupErrors: number;
}

/** Where the processes of one measured side are: for CPU accounting. */
interface Target {
  label: string;
  server: ServerProcess;
  postmaster: number | null;
}

/** One load run: autocannon (as fast as it goes, or at its overallRate), or the paced open loop. */
async function loadOnce(url: string, request: BenchRequest, seconds: number, settings: Settings, scenario: Scenario): Promise<{ measured: Measurement; seconds: number }> {
  if (scenario.pacedRate) {
    const measured = await pacedLoad(url, request, scenario.pacedRate, seconds, settings.connections);
    return { measured, seconds };
  }
  const result = await load(url, request, seconds, settings.connections, scenario.overallRate);
  return { measured: toMeasurement(result), seconds: result.duration };
}

async function measure(target: Target, request: BenchRequest, settings: Settings, scenario: Scenario): Promise<SideRun> {
  const { label, server } = target;
  const rate = scenario.pacedRate
    ? `, ${scenario.pacedRate} req/s evenly spaced`
    : scenario.overallRate
      ? `, ${scenario.overallRate} req/s in all (autocannon overallRate)`
      : '';
  log(`${label}: warm-up ${settings.warmupS} s, then ${settings.durationS} s with ${settings.connections} connections${rate}`);
  const warmup = await loadOnce(server.url, request, settings.warmupS, settings, scenario);
  const before = readCpu(server.child.pid, target.postmaster);
  const run = await loadOnce(server.url, request, settings.durationS, settings, scenario);
  const measured = run.measured;
  const cpu = cpuPerRequest(before, readCpu(server.child.pid, target.postmaster), measured.completed, run.seconds, availableParallelism());
  log(`${label}: ${measured.requestsPerSecond.toFixed(1)} req/s, p50 ${measured.p50Ms} ms, p99 ${measured.p99Ms} ms`);
  return { measured, cpu, warmupNon2xx: warmup.measured.non2xx, warmupErrors: warmup.measured.errors };
}

async function runScenario(
  scenario: Scenario,
  seedData: Seed,
  app: ServerProcess,
  raw: ServerProcess,
  settings: Settings,
  statements: StatementCounts | null,
  postmaster: number | null,
): Promise<ScenarioResult> {
  // Sequential, never concurrent: each side gets the whole machine while it is measured.
  const a = await measure({ label: `${scenario.name} [app]`, server: app, postmaster }, scenario.app(seedData), settings, scenario);
  const r = await measure({ label: `${scenario.name} [raw]`, server: raw, postmaster }, scenario.raw(seedData), settings, scenario);
  return {
    scenario: scenario.name,
    rate: scenario.pacedRate ? { perSecond: scenario.pacedRate, paced: true } : scenario.overallRate ? { perSecond: scenario.overallRate, paced: false } : null,
    items: scenario.items ?? null,
    statements,
    targets: scenario.targets ?? null,
    cpu: { app: a.cpu, raw: r.cpu },
    app: a.measured,
    raw: r.measured,
    warmupNon2xx: a.warmupNon2xx + r.warmupNon2xx,
    warmupErrors: a.warmupErrors + r.warmupErrors,
  };
}

function appNodeArgs(settings: Settings): string[] {
  return cpuProfileArgs(settings.appCpuProfileDir);
}

async function bench(settings: Settings, cleanup: Cleanup): Promise<number> {
  const selected = settings.only.length === 0 ? scenarios : scenarios.filter((s) => settings.only.some((part) => s.name.toLowerCase().includes(part)));
  if (selected.length === 0) {
    // `npm run bench` runs the analytics bench next: BENCH_ONLY may be meant for it.
    log(`BENCH_ONLY=${settings.only.join(',')} matches none of the HTTP scenarios: skipped`);
    return 0;
  }
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
    SUBMISSION_LIMIT_PER_IP: SUBMISSION_LIMIT,
    SUBMISSION_LIMIT_PER_FORM: SUBMISSION_LIMIT,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
  }, appNodeArgs(settings));
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
    SUBMISSION_LIMIT_PER_IP: SUBMISSION_LIMIT,
    SUBMISSION_LIMIT_PER_FORM: SUBMISSION_LIMIT,
    DATABASE_POOL_SIZE: String(POOL_SIZE),
  });
  cleanup.add('stop the baseline', async () => {
    await raw.stop();
  });
  await waitUntilReady(raw, '/health', READY_TIMEOUT_MS);
  log(`baseline ready on ${raw.url}`);


  const statements = new Map<Scenario, StatementCounts | null>();
  // The embedded cluster goes away with the run: no undo step for the logging settings.
  if (db.statementLog) {
    await db.statementLog.start();
  } else {
    log('statement comparison skipped: it reads the embedded PostgreSQL\'s log');
  }
  try {
    for (const scenario of selected) statements.set(scenario, await checkEquivalent(scenario, seedData, app, raw, db.statementLog));
  } finally {
    // Before any load: logging every statement would slow both sides down.
    await db.statementLog?.stop();
  }
  const sqlDiffers = [...statements.values()].some((s) => s !== null && !s.same);
  log(`app and baseline answer alike${!db.statementLog ? '' : sqlDiffers ? '; the SQL differs in some scenarios (above)' : ' and send the same statements'}`);

  const results: ScenarioResult[] = [];
  for (const scenario of selected) results.push(await runScenario(scenario, seedData, app, raw, settings, statements.get(scenario) ?? null, db.postmaster));

  const problems = results.flatMap(failures);
  const targets = results.flatMap(checkTargets);
  const items = formatItems(results);
  process.stdout.write(
    `\nLeadNest bench: ${settings.durationS} s per run after ${settings.warmupS} s warm-up, ${settings.connections} connections, ` +
      `pool ${POOL_SIZE}, ${availableParallelism()} CPUs (${busyBefore}% busy before start), node ${process.version}, ${db.label}\n\n` +
      `${formatTable(results)}\n\n` +
      `CPU per request in ms (server process / PostgreSQL / load generator); the req/s that cost allows on ${availableParallelism()} CPUs ` +
      `(an estimate that other processes do not lower); the share of the CPUs they used, and what other processes used meanwhile:\n\n${formatCpuTable(results)}\n\n` +
      (items.length > 0 ? `${items.join('\n')}\n\n` : '') +
      (targets.length > 0 ? `Targets (issue 3), app side:\n  ${formatTargets(targets).join('\n  ')}\n\n` : ''),
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
    targets,
    targetsMet: targets.every((t) => t.met),
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
