import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { withDatabase } from '../src/database/database-url.js';
import { freePort, log, startServer, waitUntilReady, type ServerProcess } from './processes.js';

/**
 * `node dist/bench/export-memory.js`: the contacts export's memory at scale. Seeds EXPORT_CONTACTS
 * contacts (default 1,000,000, each with attribution and a consent record) in a database of its own,
 * downloads them through the real HTTP endpoint of the app running as a child process (production
 * settings) and reads the child's peak RSS from /proc (VmHWM). The kernel's peak is reset when each
 * export starts, so it measures the export, not the boot (migrations, first requests) before it; the
 * whole-life peak is printed too. Fails when an export's peak RSS reaches 200 MB.
 * Env: EXPORT_CONTACTS, EXPORT_FORMATS (csv,ndjson), BENCH_DATABASE_URL (a server to create the
 * database on; default the local postgres://postgres@127.0.0.1:5432/test).
 */

const PEAK_RSS_LIMIT_MB = 200;
const SEED_CHUNK = 100_000;
const READY_TIMEOUT_MS = 120_000;

interface Memory {
  rssMb: number;
  hwmMb: number;
}

/** VmRSS (now) and VmHWM (the peak since start or since the last reset), in MB, from /proc/<pid>/status. */
function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Sets the process's VmHWM back to its current RSS (Linux ≥ 4.0, same user or root). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${raw}: expected a positive integer`);
  return n;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function signup(appUrl: string): Promise<{ accessToken: string; workspaceId: string }> {
  const res = await fetch(`${appUrl}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `export-bench-${Date.now()}@example.com`, password: randomBytes(18).toString('base64url'), workspaceName: 'Export bench' }),
  });
  const body = (await res.json()) as { accessToken?: string; workspace?: { id?: string } };
  if (res.status !== 201 || !body.accessToken || !body.workspace?.id) throw new Error(`signup answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return { accessToken: body.accessToken, workspaceId: body.workspace.id };
}

/** Contacts with first/last touch, attributes, tags and one email consent each, in chunks (progress in the log). */
async function seedContacts(url: string, workspaceId: string, total: number): Promise<void> {
  await admin(url, async (c) => {
    for (let from = 1; from <= total; from += SEED_CHUNK) {
      const to = Math.min(total, from + SEED_CHUNK - 1);
      await c.query(
        `WITH inserted AS (
           INSERT INTO contacts (workspace_id, email, phone, first_name, last_name, attributes, tags, email_status,
                                 first_touch, last_touch, first_channel, last_channel, created_at)
           SELECT $1, 'contact-' || i || '@bench.example', '+1' || (2000000000 + i), 'First' || i, 'Last' || i,
                  jsonb_build_object('plan', 'gold', 'n', i), '{bench,vip}', 'subscribed',
                  jsonb_build_object('channel', 'instagram', 'utm_source', 'ig', 'utm_medium', 'social', 'utm_campaign', 'spring',
                                     'referrer', 'https://l.instagram.com/', 'url', 'https://shop.example/?utm_source=ig', 'at', '2024-03-01T10:00:00.000Z'),
                  jsonb_build_object('channel', 'whatsapp', 'referrer', 'https://wa.me/', 'at', '2024-04-01T10:00:00.000Z'),
                  'instagram', 'whatsapp', now() - make_interval(secs => $4 - i)
             FROM generate_series($2::int, $3::int) AS i
           RETURNING id
         )
         INSERT INTO consents (workspace_id, contact_id, channel, status, source, wording)
         SELECT $1, id, 'email', 'granted', 'form', 'Send me the weekly newsletter. Unsubscribe any time.' FROM inserted`,
        [workspaceId, from, to, total],
      );
      log(`seeded ${to.toLocaleString('en')} / ${total.toLocaleString('en')} contacts`);
    }
    await c.query('ANALYZE contacts');
    await c.query('ANALYZE consents');
  });
}

interface ExportRun {
  format: string;
  rows: number;
  bytes: number;
  seconds: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

/** Downloads the export, counting lines; the app's peak RSS is taken over exactly this download. */
async function runExport(app: ServerProcess, pid: number, token: string, workspaceId: string, format: string): Promise<ExportRun> {
  resetPeak(pid);
  const rssBeforeMb = memoryOf(pid).rssMb;
  const started = process.hrtime.bigint();
  const res = await fetch(`${app.url}/v1/workspaces/${workspaceId}/contacts/export?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    bytes += buf.length;
    for (let at = buf.indexOf(10); at !== -1; at = buf.indexOf(10, at + 1)) lines++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // The seeded values hold no line breaks: one line per contact, plus the CSV header.
  return { format, rows: format === 'csv' ? lines - 1 : lines, bytes, seconds, rssBeforeMb, peakRssMb: memoryOf(pid).hwmMb };
}

async function main(): Promise<number> {
  const total = positiveInt('EXPORT_CONTACTS', 1_000_000);
  const formats = (process.env.EXPORT_FORMATS ?? 'csv,ndjson').split(',').map((f) => f.trim()).filter(Boolean);
  const serverUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `leadnest_export_bench_${Date.now()}`;
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await Promise.resolve(step()).catch((err: unknown) => log(`cleanup: ${String(err)}`));
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`));
    cleanups.push(() => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`)));
    const url = withDatabase(serverUrl, dbName);
    const cwd = mkdtempSync(join(tmpdir(), 'leadnest-export-bench-'));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));

    const port = await freePort();
    const app = startServer('app', fileURLToPath(new URL('../src/main.js', import.meta.url)), port, cwd, {
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ROLE: 'api',
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(36).toString('base64url'),
      LOG_LEVEL: 'warn',
      LOG_REQUESTS: 'false',
      MIGRATIONS_RUN: 'true',
    });
    cleanups.push(() => app.stop());
    await waitUntilReady(app, '/health/ready', READY_TIMEOUT_MS);
    const pid = app.child.pid;
    if (!pid) throw new Error('the app has no pid');
    const { accessToken, workspaceId } = await signup(app.url);

    const seedStart = Date.now();
    await seedContacts(url, workspaceId, total);
    log(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
    // Boot, migrations and the first requests, before any export.
    const bootPeakMb = memoryOf(pid).hwmMb;
    log(`app before export: RSS ${memoryOf(pid).rssMb.toFixed(1)} MB, peak so far (boot, migrations, signup) ${bootPeakMb.toFixed(1)} MB`);

    const runs: ExportRun[] = [];
    for (const format of formats) {
      const run = await runExport(app, pid, accessToken, workspaceId, format);
      runs.push(run);
      log(`${format}: ${run.rows.toLocaleString('en')} rows, ${(run.bytes / 1e6).toFixed(1)} MB in ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMb.toFixed(1)} MB`);
    }
    const problems: string[] = [];
    for (const r of runs) {
      if (r.rows !== total) problems.push(`${r.format}: exported ${r.rows} rows, expected ${total}`);
      if (r.peakRssMb >= PEAK_RSS_LIMIT_MB) problems.push(`${r.format}: peak RSS ${r.peakRssMb.toFixed(1)} MB ≥ ${PEAK_RSS_LIMIT_MB} MB`);
    }

    process.stdout.write(`\nLeadNest export memory: ${total.toLocaleString('en')} contacts, node ${process.version}, limit ${PEAK_RSS_LIMIT_MB} MB\n\n`);
    process.stdout.write('format  rows        MB      seconds  MB/s   rows/s    RSS at start MB  peak RSS MB\n');
    for (const r of runs) {
      process.stdout.write(
        `${r.format.padEnd(7)} ${String(r.rows).padEnd(11)} ${(r.bytes / 1e6).toFixed(1).padEnd(7)} ${r.seconds.toFixed(1).padEnd(8)} ` +
          `${(r.bytes / 1e6 / r.seconds).toFixed(1).padEnd(6)} ${Math.round(r.rows / r.seconds).toString().padEnd(9)} ` +
          `${r.rssBeforeMb.toFixed(1).padEnd(16)} ${r.peakRssMb.toFixed(1)}\n`,
      );
    }
    process.stdout.write(`\npeak RSS before the exports (boot, migrations, signup): ${bootPeakMb.toFixed(1)} MB\n`);
    const summary = {
      ok: problems.length === 0,
      contacts: total,
      bootPeakRssMb: Number(bootPeakMb.toFixed(1)),
      runs: runs.map((r) => ({
        ...r,
        seconds: Number(r.seconds.toFixed(2)),
        mbPerSecond: Number((r.bytes / 1e6 / r.seconds).toFixed(2)),
        rssBeforeMb: Number(r.rssBeforeMb.toFixed(1)),
        peakRssMb: Number(r.peakRssMb.toFixed(1)),
      })),
      problems,
    };
    if (problems.length > 0) process.stdout.write(`FAIL:\n  ${problems.join('\n  ')}\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
}
process.exit(code);
