import type autocannon from 'autocannon';

/** What the seeding step created through the app's API; scenarios build their requests from it. */
export interface Seed {
  userId: string;
  accessToken: string;
  workspaceId: string;
  secretKey: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface BenchRequest {
  method: HttpMethod;
  path: string;
  headers?: Record<string, string>;
  // A body sent unchanged with every request (JSON text for JSON APIs).
  body?: string;
  // Called for every request instead of `body`: for bodies that must differ (unique emails,
  // Idempotency-Key values, event batches with fresh ids).
  nextBody?: () => string;
}

export interface Scenario {
  name: string;
  app: (seed: Seed) => BenchRequest;
  // The same work for the raw Fastify + pg server (bench/baseline.ts must serve it).
  raw: (seed: Seed) => BenchRequest;
  // 'json': one request to each side must give equal JSON before loading (proves the baseline does the
  // same work); 'status': only the status is compared, when bodies hold fresh ids or timestamps.
  compare: 'json' | 'status';
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

// Add scenarios here; each one needs its route in bench/baseline.ts doing the app's SQL.
export const scenarios: Scenario[] = [
  {
    name: 'GET /v1/me (JWT)',
    app: (s) => ({ method: 'GET', path: '/v1/me', headers: bearer(s.accessToken) }),
    raw: (s) => ({ method: 'GET', path: '/v1/me', headers: bearer(s.accessToken) }),
    compare: 'json',
  },
  {
    name: 'GET /v1/workspaces/:id (secret key)',
    app: (s) => ({ method: 'GET', path: `/v1/workspaces/${s.workspaceId}`, headers: bearer(s.secretKey) }),
    raw: (s) => ({ method: 'GET', path: `/v1/workspaces/${s.workspaceId}`, headers: bearer(s.secretKey) }),
    compare: 'json',
  },
];

function hasBody(r: BenchRequest): boolean {
  return r.body !== undefined || r.nextBody !== undefined;
}

function headersOf(r: BenchRequest): Record<string, string> {
  return { ...(hasBody(r) ? { 'content-type': 'application/json' } : {}), ...r.headers };
}

/** The request as autocannon sends it; a `nextBody` is called through setupRequest for each request. */
export function toAutocannonRequest(r: BenchRequest): autocannon.Request {
  const request: autocannon.Request = { method: r.method, path: r.path, headers: headersOf(r), body: r.body };
  const next = r.nextBody;
  if (next) request.setupRequest = (req) => ({ ...req, body: next() });
  return request;
}

/** One request with fetch, for the equivalence check before loading. */
export async function sendOnce(baseUrl: string, r: BenchRequest): Promise<{ status: number; body: string }> {
  const res = await fetch(`${baseUrl}${r.path}`, {
    method: r.method,
    headers: headersOf(r),
    body: r.nextBody ? r.nextBody() : r.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}
