import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { closedLoop, type LoopRun } from './closed-loop.js';

/**
 * The raw baseline of the report scenarios: the SQL statements the app's own services send for one
 * request, captured in this process (the same modules the app runs) and replayed through plain `pg`,
 * in the same order and with the same concurrency (statements the service runs at once go at once).
 * What the app adds on top (HTTP, auth, validation, assembling the answer) is the difference.
 */

interface Statement {
  text: string;
  values: unknown[];
}

/** Steps run one after another; the statements of a step run at once. */
export type Replay = Statement[][];

/** The statements `ds.query` ran while `action` ran, grouped into steps by whether they overlapped. */
export async function captureStatements(ds: DataSource, action: () => Promise<unknown>): Promise<Replay> {
  const captured: (Statement & { started: number; ended: number })[] = [];
  const original = ds.query.bind(ds);
  ds.query = (async (text: string, values?: unknown[]) => {
    const entry = { text, values: values ?? [], started: performance.now(), ended: Number.POSITIVE_INFINITY };
    captured.push(entry);
    try {
      return await original(text, values);
    } finally {
      entry.ended = performance.now();
    }
  }) as DataSource['query'];
  try {
    await action();
  } finally {
    ds.query = original;
  }
  const steps: Replay = [];
  let stepEnds = Number.NEGATIVE_INFINITY;
  for (const s of captured.sort((a, b) => a.started - b.started)) {
    // Started before everything of the current step ended: the service ran it alongside.
    if (s.started < stepEnds) steps[steps.length - 1].push({ text: s.text, values: s.values });
    else steps.push([{ text: s.text, values: s.values }]);
    stepEnds = s.started < stepEnds ? Math.max(stepEnds, s.ended) : s.ended;
  }
  return steps;
}

/** `connections` clients replaying `replay` back to back for `seconds` on a pool of `poolSize`. */
export async function replayLoop(url: string, replay: Replay, seconds: number, connections: number, poolSize: number): Promise<LoopRun> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  try {
    return await closedLoop(seconds, connections, async () => {
      for (const step of replay) await Promise.all(step.map((s) => pool.query(s.text, s.values)));
      return true;
    });
  } finally {
    await pool.end();
  }
}
