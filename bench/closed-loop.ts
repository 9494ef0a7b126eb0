import { performance } from 'node:perf_hooks';

export interface LoopRun {
  latencies: number[];
  failures: number;
  seconds: number;
}

/**
 * `connections` clients calling `once` back to back for `seconds`; every latency is kept. `once`
 * resolves to whether the call succeeded; a throw counts as a failure too.
 */
export async function closedLoop(seconds: number, connections: number, once: () => Promise<boolean>): Promise<LoopRun> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const ok = await once().catch(() => false);
        if (!ok) failures++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, failures, seconds: (performance.now() - started) / 1000 };
}
