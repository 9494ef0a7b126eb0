import { existsSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

// Debian's Chromium: `npx playwright install` cannot download here (.ci/run installs it).
export const CHROMIUM = '/usr/bin/chromium';

/** Browser specs run when Chromium is there, and always in CI (where a missing browser must fail). */
export function browserTestsEnabled(): boolean {
  if (existsSync(CHROMIUM) || process.env.CI) return true;
  console.warn(`Browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium). CI runs them.`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Polls until `check` returns a truthy value (or throws with `what`). */
export async function until<T>(what: string, check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Listening {
  server: Server;
  sockets: Set<Socket>;
  port: number;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0): Promise<Listening> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { server, sockets, port: (server.address() as AddressInfo).port };
}

async function shut({ server, sockets }: Listening): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface Site {
  origin: string;
  // The HTML served at `path`.
  pages: Map<string, string>;
  close(): Promise<void>;
}

/** A customer's website: another origin, plain HTML pages. */
export async function startSite(): Promise<Site> {
  const pages = new Map<string, string>();
  const l = await listen((req, res) => {
    const html = pages.get((req.url ?? '/').split('?')[0]);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html ?? 'not found');
  });
  return { origin: `http://127.0.0.1:${l.port}`, pages, close: () => shut(l) };
}

// down: the API is stopped (connections refused); unavailable: submissions answer 503;
// drop-response: the submission reaches the API, its answer never reaches the browser.
export type ProxyMode = 'up' | 'down' | 'unavailable' | 'drop-response';

export interface ApiProxy {
  origin: string;
  // Idempotency-Key of every submission POST that reached the proxy.
  submissions: string[];
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

/** The API's address as the browser sees it, switchable to an outage without changing origin. */
export async function startApiProxy(targetPort: number): Promise<ApiProxy> {
  let mode: ProxyMode = 'up';
  const submissions: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const isSubmission = req.method === 'POST' && /\/submissions$/.test(req.url ?? '');
    if (isSubmission) submissions.push(String(req.headers['idempotency-key']));
    if (isSubmission && mode === 'unavailable') {
      req.resume();
      // As the API itself answers when its database is down: problem+json with CORS headers.
      res.writeHead(503, { 'content-type': 'application/problem+json', 'access-control-allow-origin': req.headers.origin ?? '*' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }));
      return;
    }
    const dropAnswer = isSubmission && mode === 'drop-response';
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (dropAnswer) {
        answer.resume();
        answer.on('end', () => res.socket?.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  };
  let current: Listening | null = await listen(handler);
  const port = current.port;
  return {
    origin: `http://127.0.0.1:${port}`,
    submissions,
    async setMode(next) {
      if (next === 'down' && current) {
        await shut(current);
        current = null;
      } else if (next !== 'down' && !current) {
        current = await listen(handler, port);
      }
      mode = next;
    },
    async close() {
      if (current) await shut(current);
      current = null;
    },
  };
}
