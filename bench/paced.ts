import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Measurement } from './report.js';
import { headersOf, type BenchRequest } from './scenarios.js';

/**
 * An open-loop load at a steady rate: request i is due at start + i / rate, whatever happened to the
 * ones before, and its latency counts from when it was due (queueing in the client included), so a
 * slow server cannot hide its slowness by slowing the sender down (no coordinated omission).
 *
 * autocannon's overallRate is not that: each connection sends its share of the second back to back
 * at the start of every second and then waits, so "500 req/s" is a burst of 500 requests at full
 * concurrency once a second followed by idle time. Both are reported; this one is the steady rate.
 */

// Requests still unanswered this long after the last one was due count as timeouts. Generous: when
// the server falls behind, the backlog (most of it still queued in this client) takes a while to
// drain, and its latencies are the result, not an error.
const DRAIN_MS = 60_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function pacedLoad(baseUrl: string, r: BenchRequest, rate: number, seconds: number, connections: number): Promise<Measurement> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const headers = headersOf(r);
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let outstanding = 0;
  let sent = 0;
  let lastDone = 0;

  const send = (due: number) => {
    const body = r.nextBody ? r.nextBody() : r.body;
    outstanding++;
    const req = http.request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, agent, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.once('end', () => {
          outstanding--;
          lastDone = performance.now();
          latencies.push(lastDone - due);
          const code = String(res.statusCode ?? 0);
          statusCodes[code] = (statusCodes[code] ?? 0) + 1;
        });
      },
    );
    req.once('error', () => {
      outstanding--;
      errors++;
    });
    req.end(body);
  };

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out now (timers are ~1 ms coarse; lateness is in the latency).
      while (sent < total && start + sent * interval <= now) send(start + sent++ * interval);
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  const drainUntil = performance.now() + DRAIN_MS;
  while (outstanding > 0 && performance.now() < drainUntil) await new Promise((res) => setTimeout(res, 10));
  const timeouts = outstanding;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const completed = latencies.length;
  const non2xx = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    // Until the last answer: the rate asked for when the server kept up, less when it fell behind.
    requestsPerSecond: lastDone > start ? Math.round((completed / ((lastDone - start) / 1000)) * 10) / 10 : 0,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    completed,
    non2xx,
    errors: errors + timeouts,
    timeouts,
    statusCodes,
  };
}
