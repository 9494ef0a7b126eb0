import type autocannon from 'autocannon';

/** What the seeding step created through the app's API; scenarios build their requests from it. */
export interface Seed {
  userId: string;
  accessToken: string;
  workspaceId: string;
  secretKey: string;
  // An active form: email (required) + first_name, one email consent item, no double opt-in.
  formId: string;
  consentKey: string;
  publishableKey: string;
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

/** What the issue asks of a scenario's app side; checked after the run and printed with the table. */
export interface Targets {
  minRequestsPerSecond?: number;
  // Items (events) per second: req/s × items per request.
  minItemsPerSecond?: number;
  maxP99Ms?: number;
  // app req/s ÷ raw req/s.
  minRatio?: number;
}

export interface Scenario {
  name: string;
  app: (seed: Seed) => BenchRequest;
  // The same work for the raw Fastify + pg server (bench/baseline.ts must serve it).
  raw: (seed: Seed) => BenchRequest;
  // 'json': one request to each side must give equal JSON before loading (proves the baseline does the
  // same work); 'shape': the same status and the same set of keys, with equal values except for
  // `volatileKeys` (fresh ids); 'status': only the status is compared.
  compare: 'json' | 'shape' | 'status';
  volatileKeys?: string[];
  // Each request carries this many items (events): reported as items/s next to req/s.
  items?: { perRequest: number; unit: string };
  // A fixed request rate for both sides (autocannon overallRate): latency under a given load rather
  // than the most the server can do. Unset (and no pacedRate): as fast as the connections allow.
  overallRate?: number;
  // A steady open-loop rate from bench/paced.ts instead of autocannon (see there why both exist).
  pacedRate?: number;
  targets?: Targets;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

// Unique to this run, so "new email" never meets a contact of an earlier run (BENCH_DATABASE_URL).
const RUN = Date.now().toString(36);

/** A counter shared by both sides of a scenario: the baseline continues where the app stopped. */
function counter(): () => number {
  let n = 0;
  return () => n++;
}

// What a visitor from an Instagram bio link sends; the app classifies it as channel "instagram".
const CONTEXT = {
  utm_source: 'instagram',
  url: 'https://shop.example/spring?utm_source=instagram',
  referrer: 'https://l.instagram.com/',
};

function submission(s: Seed, email: string, firstName: string): string {
  return JSON.stringify({ fields: { email, first_name: firstName }, consent: { [s.consentKey]: true }, context: CONTEXT });
}

// A new contact on every request, on both sides (the counter is shared): the insert path.
const nextNewEmail = counter();
const newEmailBody = (s: Seed) => () => {
  const n = nextNewEmail();
  return submission(s, `lead-${RUN}-${n}@bench.example`, `Lead ${n}`);
};

// 200 people submitting again and again: after the first round every request merges into an
// existing contact (the upsert's UPDATE branch).
const REPEATED_EMAILS = 200;
const nextRepeated = counter();
const repeatedEmailBody = (s: Seed) => () => {
  const n = nextRepeated() % REPEATED_EMAILS;
  return submission(s, `repeat-${RUN}-${n}@bench.example`, `Repeat ${n}`);
};

const submit = (s: Seed, nextBody: () => string): BenchRequest => ({
  method: 'POST',
  path: `/v1/public/forms/${s.formId}/submissions`,
  nextBody,
});

// Event batches as the embed would send them: one visitor per batch. Built once and cycled: building
// 50 events for every request would take CPU from the servers (the load generator shares the CPUs).
export const EVENTS_PER_BATCH = 50;
const EVENT_BODIES = 256;
let eventBodies: string[] | undefined;
function eventBatches(): string[] {
  eventBodies ??= Array.from({ length: EVENT_BODIES }, (_, b) =>
    JSON.stringify({
      events: Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
        type: i === 0 ? 'form_view' : 'page_view',
        anonymousId: `anon-${RUN}-${b}`,
        properties: { path: `/spring/${i}`, title: 'Spring giveaway', scrollDepth: (i * 7) % 100 },
        context: CONTEXT,
      })),
    }),
  );
  return eventBodies;
}
const nextBatch = counter();
const eventBody = () => {
  const bodies = eventBatches();
  return bodies[nextBatch() % bodies.length];
};

const events = (s: Seed): BenchRequest => ({ method: 'POST', path: '/v1/public/events', headers: bearer(s.publishableKey), nextBody: eventBody });

// Issue 3, Targets: submissions ≥ 1,000 req/s and ≥ 60 % of the baseline, p99 ≤ 100 ms at 500 req/s;
// events ≥ 20,000 events/s in batches of 50.
const SUBMISSION_TARGETS: Targets = { minRequestsPerSecond: 1000, minRatio: 0.6 };
const FIXED_RATE = 500;

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
  {
    name: 'POST submission, new email each',
    app: (s) => submit(s, newEmailBody(s)),
    raw: (s) => submit(s, newEmailBody(s)),
    compare: 'shape',
    volatileKeys: ['submissionId'],
    targets: SUBMISSION_TARGETS,
  },
  {
    // autocannon's overallRate: each second's requests go out in one burst (see bench/paced.ts).
    name: `POST submission, new email, ${FIXED_RATE} req/s (autocannon)`,
    app: (s) => submit(s, newEmailBody(s)),
    raw: (s) => submit(s, newEmailBody(s)),
    compare: 'shape',
    volatileKeys: ['submissionId'],
    overallRate: FIXED_RATE,
    // The p99 only means something when the rate was kept.
    targets: { maxP99Ms: 100, minRequestsPerSecond: FIXED_RATE * 0.97 },
  },
  {
    // The same rate, evenly spaced: what "p99 at 500 req/s" means for visitors arriving one by one.
    name: `POST submission, new email, ${FIXED_RATE} req/s (paced)`,
    app: (s) => submit(s, newEmailBody(s)),
    raw: (s) => submit(s, newEmailBody(s)),
    compare: 'shape',
    volatileKeys: ['submissionId'],
    pacedRate: FIXED_RATE,
    targets: { maxP99Ms: 100, minRequestsPerSecond: FIXED_RATE * 0.97 },
  },
  {
    name: `POST submission, ${REPEATED_EMAILS} repeated emails`,
    app: (s) => submit(s, repeatedEmailBody(s)),
    raw: (s) => submit(s, repeatedEmailBody(s)),
    compare: 'shape',
    volatileKeys: ['submissionId'],
    targets: SUBMISSION_TARGETS,
  },
  {
    name: `POST /v1/public/events, batch of ${EVENTS_PER_BATCH} (pk)`,
    app: events,
    raw: events,
    compare: 'json',
    items: { perRequest: EVENTS_PER_BATCH, unit: 'events' },
    targets: { minItemsPerSecond: 20_000 },
  },
];

function hasBody(r: BenchRequest): boolean {
  return r.body !== undefined || r.nextBody !== undefined;
}

export function headersOf(r: BenchRequest): Record<string, string> {
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
