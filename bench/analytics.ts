import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AnalyticsQuery } from '../src/analytics/analytics.dto.js';
import { AnalyticsService } from '../src/analytics/analytics.service.js';
import { RollupsService } from '../src/analytics/rollups.service.js';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/app-config.js';
import { migrate } from '../src/database/data-source.js';
import { ensureDatabase } from '../src/database/database-url.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { FunnelReportQuery } from '../src/funnels/funnel-report.dto.js';
import { FunnelReportService } from '../src/funnels/funnel-report.service.js';
import { dto, seedDemo, type DemoWorkspace } from './demo-data.js';
import { benchRuleEngine, type EngineThroughput } from './funnel-bench.js';
import { closedLoop, type LoopRun } from './closed-loop.js';
import { cpuProfileArgs, freePort, log, startServer, waitUntilReady } from './processes.js';
import { captureStatements, replayLoop, type Replay } from './report-baseline.js';

/**
 * `npm run bench:analytics`: the analytics and funnel reports over a seeded demo workspace (default
 * 1,000,000 contacts and 10,000,000 events over 180 days), the rollup refresh after a minute of
 * traffic, and the funnel rule engine's throughput. The app runs as a child process with production
 * settings; latencies are measured by a closed loop of `BENCH_CONNECTIONS` clients.
 * Env: BENCH_CONTACTS, BENCH_EVENTS, BENCH_DAYS, BENCH_DURATION (s, 10), BENCH_WARMUP (s, 2),
 * BENCH_CONNECTIONS (4), BENCH_REFRESH_ROUNDS (5), BENCH_ENGINE_ROUNDS (3), BENCH_DATABASE_URL (a server to create the bench
 * database on; unset: an embedded PostgreSQL removed afterwards), BENCH_ONLY (as for `npm run bench`,
 * which runs this after its HTTP scenarios: naming none of the measures here skips it; naming one
 * runs all, the seed being most of the time), BENCH_APP_CPU_PROF (as for `npm run bench`).
 *
 * Each report is measured twice: through the app, and as its raw baseline, the SQL statements the
 * app's services send for one such request replayed through plain pg (`report-baseline.ts`). The
 * rollup refresh and the rule engine are the app's own code called in this process.
 */

const EMBEDDED_DIR = './.data/bench-analytics-postgres';
const EMBEDDED_PORT = 54349;
const READY_TIMEOUT_MS = 60_000;
// Targets of issue 4.
const REPORT_P95_MS = 200;
const REFRESH_MS = 1_000;
const ENGINE_EVENTS_PER_S = 5_000;
// One minute of traffic for the refresh benchmark: events in batches as the embed sends them.
const MINUTE_EVENTS = 10_000;
const MINUTE_SUBMISSIONS = 100;
const EVENT_BATCH = 50;
// New contacts whose signups, confirmations and payments the rule engine evaluates (~16,000 events).
const ENGINE_CONTACTS = 10_000;
// A first, unmeasured round warms the engine up (JIT, caches), as the HTTP scenarios' warm-up does.
const ENGINE_WARMUP_CONTACTS = 2_000;
// The app's connection pool, and the raw baseline's.
const APP_POOL_SIZE = 10;

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return n;
}

const settings = {
  contacts: setting('BENCH_CONTACTS', 1_000_000),
  events: setting('BENCH_EVENTS', 10_000_000),
  days: setting('BENCH_DAYS', 180),
  durationS: setting('BENCH_DURATION', 10),
  warmupS: setting('BENCH_WARMUP', 2),
  connections: setting('BENCH_CONNECTIONS', 4),
  refreshRounds: setting('BENCH_REFRESH_ROUNDS', 5),
  engineRounds: setting('BENCH_ENGINE_ROUNDS', 3),
  serverUrl: process.env.BENCH_DATABASE_URL || undefined,
};

interface Latency {
  name: string;
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  failures: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;

/** `connections` clients sending GET `url` back to back for `seconds`. */
function httpLoop(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<LoopRun> {
  return closedLoop(seconds, connections, async () => {
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    return res.status === 200;
  });
}

async function measure(name: string, url: string, headers: Record<string, string>): Promise<Latency> {
  const probe = await fetch(url, { headers });
  if (probe.status !== 200) throw new Error(`${name}: HTTP ${probe.status} ${(await probe.text()).slice(0, 300)}`);
  await httpLoop(url, headers, settings.warmupS, settings.connections);
  return summary(name, await httpLoop(url, headers, settings.durationS, settings.connections));
}

/** The raw baseline of a read: its captured statements replayed as `measure` loads the app. */
async function measureRaw(name: string, databaseUrl: string, replay: Replay): Promise<Latency> {
  if (replay.length === 0) throw new Error(`${name}: no statement captured for the raw baseline`);
  await replayLoop(databaseUrl, replay, settings.warmupS, settings.connections, APP_POOL_SIZE);
  return summary(`${name} (raw)`, await replayLoop(databaseUrl, replay, settings.durationS, settings.connections, APP_POOL_SIZE));
}

function summary(name: string, run: LoopRun): Latency {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const result = {
    name,
    requests: sorted.length,
    perSecond: round(sorted.length / run.seconds),
    p50: round(quantile(sorted, 0.5)),
    p95: round(quantile(sorted, 0.95)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
    failures: run.failures,
  };
  log(`${name}: ${result.perSecond} req/s, p50 ${result.p50} ms, p95 ${result.p95} ms, p99 ${result.p99} ms`);
  return result;
}

async function post(url: string, body: object, headers: Record<string, string>, expected: number[]): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`POST ${new URL(url).pathname}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const CHANNEL_SOURCES = ['instagram', 'instagram', 'tiktok', 'facebook', 'whatsapp', 'google', 'email'];

/** About a minute of a busy site's traffic, through the public API: events in batches of 50, and signups. */
async function minuteOfTraffic(appUrl: string, demo: DemoWorkspace, round: number): Promise<void> {
  const auth = { authorization: `Bearer ${demo.publishableKey}` };
  let sent = 0;
  const batches = Array.from({ length: MINUTE_EVENTS / EVENT_BATCH }, (_, b) => b);
  const sendBatch = async (b: number) => {
    const events = Array.from({ length: EVENT_BATCH }, (_, i) => {
      const source = CHANNEL_SOURCES[(b + i) % CHANNEL_SOURCES.length];
      const kind = i % 10 < 3 ? 'form_view' : 'page_view';
      return {
        type: kind,
        anonymousId: `bench_${round}_${b}_${i % 12}`,
        properties: kind === 'form_view' ? { formId: demo.formIds[(b + i) % demo.formIds.length] } : { title: 'Demo Shop' },
        context: { url: 'https://shop.example/', utm_source: source, utm_campaign: i % 3 === 0 ? 'spring_sale' : undefined },
        occurredAt: new Date(Date.now() - ((b * 37 + i) % 60) * 1000).toISOString(),
      };
    });
    await post(`${appUrl}/v1/public/events`, { events }, auth, [202]);
    sent += EVENT_BATCH;
  };
  // Eight browsers' worth of concurrency.
  await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
    for (let k = lane; k < batches.length; k += 8) await sendBatch(batches[k]);
  }));
  for (let s = 0; s < MINUTE_SUBMISSIONS; s++) {
    await post(
      `${appUrl}/v1/public/forms/${demo.formIds[s % demo.formIds.length]}/submissions`,
      {
        fields: { email: `bench-${round}-${s}-${randomBytes(3).toString('hex')}@example.com` },
        consent: { news: true },
        context: { utm_source: CHANNEL_SOURCES[s % CHANNEL_SOURCES.length], utm_campaign: 'spring_sale' },
        startedAt: Date.now() - 30_000,
      },
      {},
      [201, 202],
    );
  }
  if (sent !== MINUTE_EVENTS) throw new Error(`sent ${sent} events, expected ${MINUTE_EVENTS}`);
}

// Undo steps, last first, run once: on success, on failure and on Ctrl-C (the embedded PostgreSQL
// must not outlive the bench).
const cleanup: (() => Promise<void>)[] = [];
let cleaned: Promise<void> | undefined;
const runCleanup = (): Promise<void> =>
  (cleaned ??= (async () => {
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  })());
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void runCleanup().finally(() => process.exit(code));
  });
}

// What BENCH_ONLY can name here; anything else (a submission scenario, say) skips this bench.
const MEASURES = ['analytics/overview', 'analytics/sources', 'funnels/{id}/report', 'rollup refresh', 'rule engine'];

async function main(): Promise<number> {
  const only = (process.env.BENCH_ONLY ?? '').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  if (only.length > 0 && !only.some((part) => MEASURES.some((m) => m.includes(part)))) {
    log(`BENCH_ONLY=${only.join(',')} matches none of the analytics and funnel measures: skipped`);
    return 0;
  }
  try {
    let serverUrl = settings.serverUrl;
    if (!serverUrl) {
      log(`starting the embedded PostgreSQL in ${EMBEDDED_DIR} on port ${EMBEDDED_PORT}`);
      const server = await startEmbeddedPostgres({ dir: EMBEDDED_DIR, port: EMBEDDED_PORT, persistent: false });
      cleanup.push(() => server.stop());
      serverUrl = server.url;
    }
    const dbName = `leadnest_bench_analytics_${Date.now()}`;
    const url = await ensureDatabase(serverUrl, dbName);
    if (settings.serverUrl) {
      cleanup.push(async () => {
        const client = new pg.Client({ connectionString: serverUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
        await client.end();
      });
    }
    await migrate(url);

    const jwtSecret = randomBytes(36).toString('base64url');
    const env = {
      NODE_ENV: 'production',
      ROLE: 'api',
      DATABASE_URL: url,
      JWT_SECRET: jwtSecret,
      LOG_LEVEL: 'warn',
      LOG_REQUESTS: 'false',
      MIGRATIONS_RUN: 'false',
      DATABASE_POOL_SIZE: String(APP_POOL_SIZE),
      SUBMISSION_LIMIT_PER_IP: '100000000',
      SUBMISSION_LIMIT_PER_FORM: '100000000',
    };
    // In this process: the seed, the rollup refresh and the rule engine are called directly.
    const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(loadConfig({ ...env, LOG_LEVEL: 'error' })), { logger: ['error'] });
    cleanup.push(() => ctx.close());

    log(`seeding ${settings.contacts} contacts and ${settings.events} events over ${settings.days} days`);
    const seedStarted = performance.now();
    const demo = await seedDemo(ctx, { contacts: settings.contacts, events: settings.events, days: settings.days, log });
    const seedS = round((performance.now() - seedStarted) / 1000);

    const cwd = mkdtempSync(join(tmpdir(), 'leadnest-bench-analytics-'));
    cleanup.push(async () => rmSync(cwd, { recursive: true, force: true }));
    const port = await freePort();
    const app = startServer(
      'app',
      fileURLToPath(new URL('../src/main.js', import.meta.url)),
      port,
      cwd,
      { ...env, PORT: String(port), HOST: '127.0.0.1' },
      cpuProfileArgs(process.env.BENCH_APP_CPU_PROF || undefined),
    );
    cleanup.push(async () => {
      await app.stop();
    });
    await waitUntilReady(app, '/health/ready', READY_TIMEOUT_MS);
    const login = await post(`${app.url}/v1/auth/login`, { email: demo.email, password: demo.password }, {}, [200]);
    const jwt = { authorization: `Bearer ${String(login.accessToken)}` };
    const base = `${app.url}/v1/workspaces/${demo.workspaceId}`;

    // Each report twice: through the app, then as its raw baseline (the same SQL through plain pg).
    const ws = { id: demo.workspaceId, role: 'owner' as const };
    const analytics = ctx.get(AnalyticsService);
    const funnelReports = ctx.get(FunnelReportService);
    const query = (url: string) => Object.fromEntries(new URL(url).searchParams);
    const reads: { name: string; url: string; call: (url: string) => Promise<unknown> }[] = [
      { name: 'GET analytics/overview (30 days, Europe/Berlin)', url: `${base}/analytics/overview?tz=Europe/Berlin`, call: async (u) => analytics.overview(ws, await dto(AnalyticsQuery, query(u))) },
      {
        name: `GET analytics/overview (${settings.days} days, UTC)`,
        url: `${base}/analytics/overview?from=${daysAgo(settings.days - 1)}&to=${daysAgo(0)}`,
        call: async (u) => analytics.overview(ws, await dto(AnalyticsQuery, query(u))),
      },
      { name: 'GET analytics/sources (30 days, America/New_York)', url: `${base}/analytics/sources?tz=America/New_York`, call: async (u) => analytics.sources(ws, await dto(AnalyticsQuery, query(u))) },
      {
        name: 'GET funnels/{id}/report (30 days, Europe/Berlin)',
        url: `${base}/funnels/${demo.funnelId}/report?tz=Europe/Berlin`,
        call: async (u) => funnelReports.report(ws, demo.funnelId, await dto(FunnelReportQuery, query(u))),
      },
      {
        name: 'GET funnels/{id}/report (30 days, groupBy=channel)',
        url: `${base}/funnels/${demo.funnelId}/report?groupBy=channel&tz=Europe/Berlin`,
        call: async (u) => funnelReports.report(ws, demo.funnelId, await dto(FunnelReportQuery, query(u))),
      },
    ];
    const rollups = ctx.get(RollupsService);
    const ds = ctx.get(DataSource);
    const latencies: Latency[] = [];
    const raws: Latency[] = [];
    for (const read of reads) {
      latencies.push(await measure(read.name, read.url, jwt));
      // Fresh rollups: the captured request reads and never refreshes inline.
      await rollups.refresh();
      // Warm (the service caches the database's zone names on its first call), then captured.
      await read.call(read.url);
      const replay = await captureStatements(ds, () => read.call(read.url));
      raws.push(await measureRaw(read.name, url, replay));
    }

    const refreshes: { ms: number; trafficRows: number; contactBuckets: number }[] = [];
    for (let r = 0; r < settings.refreshRounds; r++) {
      const sendStarted = performance.now();
      await minuteOfTraffic(app.url, demo, r);
      const sendS = round((performance.now() - sendStarted) / 1000);
      // Rows stamped in the last second wait for the next refresh: give them that second.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const result = await rollups.refresh();
      if (result.skipped) throw new Error('refresh skipped');
      refreshes.push({ ms: result.ms, trafficRows: result.trafficRows, contactBuckets: result.contactBuckets });
      log(`refresh after ${MINUTE_EVENTS} events + ${MINUTE_SUBMISSIONS} signups (sent in ${sendS} s): ${result.ms} ms, ${result.trafficRows} traffic rows, ${result.contactBuckets} contact buckets`);
    }

    // Rounds of a few seconds each: one can fall on a checkpoint; the target is judged on the median.
    await benchRuleEngine(ctx, demo, ENGINE_WARMUP_CONTACTS);
    const engineRounds: EngineThroughput[] = [];
    for (let r = 0; r < settings.engineRounds; r++) {
      const measured = await benchRuleEngine(ctx, demo, ENGINE_CONTACTS);
      engineRounds.push(measured);
      log(`rule engine: ${measured.events} events in ${measured.seconds} s = ${measured.eventsPerSecond} events/s (${measured.moves} moves)`);
    }
    const engineMedian = quantile(engineRounds.map((r) => r.eventsPerSecond).sort((a, b) => a - b), 0.5);

    const sortedRefresh = refreshes.map((r) => r.ms).sort((a, b) => a - b);
    const refreshMedian = quantile(sortedRefresh, 0.5);
    const refreshMax = sortedRefresh[sortedRefresh.length - 1] ?? 0;
    const reportTargets = latencies.map((l) => ({ target: `${l.name} p95 ≤ ${REPORT_P95_MS} ms`, value: l.p95, met: l.p95 <= REPORT_P95_MS && l.failures === 0 }));
    const targets = [
      ...reportTargets,
      { target: `rollup refresh of ${MINUTE_EVENTS} events < ${REFRESH_MS} ms (slowest of ${refreshes.length})`, value: refreshMax, met: refreshMax < REFRESH_MS },
      { target: `rule engine ≥ ${ENGINE_EVENTS_PER_S} events/s (median of ${engineRounds.length})`, value: engineMedian, met: engineMedian >= ENGINE_EVENTS_PER_S },
    ];

    const pad = (s: string | number, n: number) => String(s).padStart(n);
    process.stdout.write(
      `\nLeadNest analytics bench: ${settings.contacts} contacts, ${settings.events} events over ${settings.days} days (seeded in ${seedS} s), ` +
        `${settings.connections} connections × ${settings.durationS} s after ${settings.warmupS} s warm-up, ${availableParallelism()} CPUs, node ${process.version}\n\n` +
        `${'scenario'.padEnd(56)}${pad('req/s', 9)}${pad('p50', 9)}${pad('p95', 9)}${pad('p99', 9)}${pad('max', 9)}${pad('non-200', 9)}` +
        `${pad('raw req/s', 11)}${pad('raw p50', 9)}${pad('raw p95', 9)}${pad('app/raw', 9)}\n` +
        latencies
          .map((l, i) => {
            const r = raws[i];
            return (
              `${l.name.padEnd(56)}${pad(l.perSecond, 9)}${pad(l.p50, 9)}${pad(l.p95, 9)}${pad(l.p99, 9)}${pad(l.max, 9)}${pad(l.failures, 9)}` +
              `${pad(r.perSecond, 11)}${pad(r.p50, 9)}${pad(r.p95, 9)}${pad((l.perSecond / r.perSecond).toFixed(2), 9)}`
            );
          })
          .join('\n') +
        `\n(raw: the SQL the app's services send for one such request, replayed through plain pg with the same connections)` +
        `\n\nrollup refresh after ~1 minute of traffic (${MINUTE_EVENTS} events, ${MINUTE_SUBMISSIONS} signups): ${refreshes.map((r) => `${r.ms} ms`).join(', ')} ` +
        `(median ${refreshMedian} ms)\n` +
        `rule engine, ${engineRounds.length} rounds of ${engineRounds[0]?.events ?? 0} events (${engineRounds[0]?.moves ?? 0} stage moves): ` +
        `${engineRounds.map((r) => `${r.eventsPerSecond}`).join(', ')} events/s (median ${engineMedian})\n` +
        `\nTargets (issue 4):\n  ${targets.map((t) => `${t.met ? 'met ' : 'MISS'} ${t.target}: ${t.value}`).join('\n  ')}\n\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ settings: { ...settings, serverUrl: settings.serverUrl ? '(given)' : undefined }, seedS, seedTimings: demo.timings, latencies, raws, refreshes, engine: engineRounds, targets })}\n`,
    );
    const failed = [...latencies, ...raws].some((l) => l.failures > 0);
    return failed ? 1 : 0;
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await runCleanup();
  }
}

function daysAgo(n: number): string {
  return new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
}

process.exit(await main());
