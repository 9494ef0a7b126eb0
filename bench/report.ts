import type autocannon from 'autocannon';

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

export interface ScenarioResult {
  scenario: string;
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
  const header = ['scenario', 'app req/s', 'app p50 ms', 'app p99 ms', 'raw req/s', 'raw p50 ms', 'raw p99 ms', 'app/raw', 'non-2xx app/raw', 'errors app/raw'];
  const rows = results.map((r) => [
    r.scenario,
    fixed(r.app.requestsPerSecond),
    ms(r.app.p50Ms),
    ms(r.app.p99Ms),
    fixed(r.raw.requestsPerSecond),
    ms(r.raw.p50Ms),
    ms(r.raw.p99Ms),
    fixed(ratio(r), 2),
    `${r.app.non2xx}/${r.raw.non2xx}`,
    `${r.app.errors}/${r.raw.errors}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  // Scenario names left-aligned, numbers right-aligned.
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
