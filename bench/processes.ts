import { mkdirSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** A server started by the bench as a child process: its output is prefixed and the tail is kept for errors. */
export interface ServerProcess {
  name: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  tail(): string[];
  // Resolves with the exit code (null: killed by a signal).
  stop(): Promise<number | null>;
}

const TAIL_LINES = 40;
const STOP_GRACE_MS = 20_000;

export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** A port nobody listens on right now (the OS picks it; a tiny race with other processes is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

// Only what node needs: the parent's other variables (a developer's DATABASE_URL, CORS_ORIGINS, …)
// must not leak into the measured configuration.
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export function startServer(
  name: string,
  script: string,
  port: number,
  cwd: string,
  env: Record<string, string>,
  // node's own flags (--cpu-prof, …), before the script.
  nodeArgs: string[] = [],
): ServerProcess {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      lines.push(String(err));
      resolve(null);
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    exited,
    tail: () => [...lines],
    async stop() {
      if (isRunning()) {
        child.kill('SIGTERM');
        // The app drains in-flight work on SIGTERM; only a hung process gets SIGKILL.
        const timer = setTimeout(() => {
          if (isRunning()) child.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/** Polls `path` until it answers 200; fails early when the process exits, or after `timeoutMs`. */
export async function waitUntilReady(server: ServerProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void server.exited.then((code) => (exitCode = code));
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`${server.name} exited (code ${exitCode}) before ${path} was ready:\n  ${server.tail().join('\n  ')}`);
    }
    try {
      const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${server.name}: ${path} not ready after ${timeoutMs / 1000} s (${last})`);
}

/** --cpu-prof for the app when `dir` (BENCH_APP_CPU_PROF) is set: the profile is written when the app stops. */
export function cpuProfileArgs(dir: string | undefined): string[] {
  if (!dir) return [];
  const absolute = resolve(dir);
  mkdirSync(absolute, { recursive: true });
  log(`the app writes a CPU profile to ${absolute} when it stops`);
  return ['--cpu-prof', `--cpu-prof-dir=${absolute}`];
}
