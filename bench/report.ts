import type autocannon from 'autocannon';
import type { CpuPerRequest } from './cpu.js';
import type { Targets } from './scenarios.js';

/** The numbers kept from one autocannon run. */
export interface Measurement {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

export interface StatementCounts {
  app: number;
  raw: number;
  // The same statements in the same transaction blocks; false: the baseline no longer matches the app.
  same: boolean;
}

export interface ScenarioResult {
  scenario: string;
  // The fixed request rate both sides were held to: evenly paced (bench/paced.ts) or autocannon's
  // overallRate (1-second bursts); null: as fast as they go.
  rate: { perSecond: number; paced: boolean } | null;
  // Items (events) per request, to report items/s.
  items: { perRequest: number; unit: string } | null;
  // Statements each side sent for one request, from the server's log (null: not checked).
  statements: StatementCounts | null;
  targets: Targets | null;
  cpu: { app: CpuPerRequest; raw: CpuPerRequest };
  app: Measurement;
  raw: Measurement;
  // Requests that went wrong during the warm-ups: not in the numbers, but still a failure.
  warmupNon2xx: number;
  warmupErrors: number;
}

export function toMeasurement(r: autocannon.Result): Measurement {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    // Completed requests over the measured time. Not requests.average: that divides by the number of
    // one-second samples, which is sometimes one more than the duration (a ~10% swing in the ratio).
    requestsPerSecond: r.duration > 0 ? Math.round((r.requests.total / r.duration) * 10) / 10 : 0,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    completed: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  };
}

export function ratio(result: ScenarioResult): number {
  return result.raw.requestsPerSecond > 0 ? result.app.requestsPerSecond / result.raw.requestsPerSecond : 0;
}

export function failures(result: ScenarioResult): string[] {
  const out: string[] = [];
  for (const [side, m] of [['app', result.app], ['raw', result.raw]] as const) {
    if (m.non2xx > 0) out.push(`${result.scenario}: ${side} answered ${m.non2xx} non-2xx (status counts ${JSON.stringify(m.statusCodes)})`);
    if (m.errors > 0) out.push(`${result.scenario}: ${side} had ${m.errors} request errors (${m.timeouts} timeouts)`);
  }
  if (result.statements && !result.statements.same) {
    out.push(`${result.scenario}: the baseline does not send the app's SQL (diff logged before the load): update bench/baseline.ts`);
  }
  if (result.warmupNon2xx > 0 || result.warmupErrors > 0) {
    out.push(`${result.scenario}: warm-up had ${result.warmupNon2xx} non-2xx and ${result.warmupErrors} errors`);
  }
  return out;
}

const fixed = (n: number, digits = 1): string => n.toFixed(digits);
// autocannon records latencies in whole milliseconds: no invented decimals.
const ms = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** A plain-text table: one row per scenario, app next to raw. */
export function formatTable(results: ScenarioResult[]): string {
  const header = ['scenario', 'rate', 'app req/s', 'app p50 ms', 'app p99 ms', 'raw req/s', 'raw p50 ms', 'raw p99 ms', 'app/raw', 'SQL/req app/raw', 'non-2xx app/raw', 'errors app/raw'];
  const rows = results.map((r) => [
    r.scenario,
    r.rate === null ? 'max' : `${r.rate.perSecond}/s ${r.rate.paced ? 'even' : 'burst'}`,
    fixed(r.app.requestsPerSecond),
    ms(r.app.p50Ms),
    ms(r.app.p99Ms),
    fixed(r.raw.requestsPerSecond),
    ms(r.raw.p50Ms),
    ms(r.raw.p99Ms),
    // Both sides held to the same rate: their req/s say nothing about each other.
    r.rate === null ? fixed(ratio(r), 2) : '-',
    r.statements ? `${r.statements.same ? '' : 'DIFFERENT '}${r.statements.app}/${r.statements.raw}` : '-',
    `${r.app.non2xx}/${r.raw.non2xx}`,
    `${r.app.errors}/${r.raw.errors}`,
  ]);
  return plainTable(header, rows);
}

// Scenario names left-aligned, numbers right-aligned.
function plainTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** CPU per request by process group: what bounds req/s when client, server and database share the CPUs. */
export function formatCpuTable(results: ScenarioResult[]): string {
  const n = (v: number | null) => (v === null ? '-' : v.toFixed(2));
  const side = (c: CpuPerRequest) => `${n(c.serverMs)} / ${n(c.postgresMs)} / ${n(c.loadGeneratorMs)}`;
  const pct = (v: number | null) => (v === null ? '-' : `${v}%`);
  return plainTable(
    ['scenario', 'app node / pg / load', 'raw node / pg / load', 'CPU-bound ceiling req/s app/raw', 'CPU busy app/raw', 'other processes app/raw'],
    results.map((r) => [
      r.scenario,
      side(r.cpu.app),
      side(r.cpu.raw),
      `${r.cpu.app.ceilingPerSecond ?? '-'}/${r.cpu.raw.ceilingPerSecond ?? '-'}`,
      `${pct(r.cpu.app.busyPercent)}/${pct(r.cpu.raw.busyPercent)}`,
      `${pct(r.cpu.app.othersPercent)}/${pct(r.cpu.raw.othersPercent)}`,
    ]),
  );
}

const grouped = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Items per second (events in batches) for the scenarios that carry them. */
export function formatItems(results: ScenarioResult[]): string[] {
  return results.flatMap((r) =>
    r.items
      ? [
          `${r.scenario}: app ${grouped(r.app.requestsPerSecond * r.items.perRequest)} ${r.items.unit}/s, ` +
            `raw ${grouped(r.raw.requestsPerSecond * r.items.perRequest)} ${r.items.unit}/s (req/s × ${r.items.perRequest})`,
        ]
      : [],
  );
}

export interface TargetCheck {
  scenario: string;
  what: string;
  actual: number;
  limit: number;
  met: boolean;
}

/** The app side against the targets. */
export function checkTargets(result: ScenarioResult): TargetCheck[] {
  const t = result.targets;
  if (!t) return [];
  const out: TargetCheck[] = [];
  const add = (what: string, actual: number, limit: number, met: boolean) =>
    out.push({ scenario: result.scenario, what, actual: Math.round(actual * 1000) / 1000, limit, met });
  const rps = result.app.requestsPerSecond;
  if (t.minRequestsPerSecond !== undefined) add('app req/s ≥', rps, t.minRequestsPerSecond, rps >= t.minRequestsPerSecond);
  if (t.minItemsPerSecond !== undefined && result.items) {
    const items = rps * result.items.perRequest;
    add(`app ${result.items.unit}/s ≥`, items, t.minItemsPerSecond, items >= t.minItemsPerSecond);
  }
  if (t.maxP99Ms !== undefined) add('app p99 ms ≤', result.app.p99Ms, t.maxP99Ms, result.app.p99Ms <= t.maxP99Ms);
  if (t.minRatio !== undefined) add('app/raw ≥', ratio(result), t.minRatio, ratio(result) >= t.minRatio);
  return out;
}

export function formatTargets(checks: TargetCheck[]): string[] {
  const num = (n: number) => (Math.abs(n) >= 100 ? grouped(n) : String(Math.round(n * 100) / 100));
  return checks.map((c) => `${c.met ? 'met   ' : 'MISSED'} ${c.scenario}: ${c.what} ${num(c.limit)}: measured ${num(c.actual)}`);
}
