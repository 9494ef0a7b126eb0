import { createHash, createSecretKey } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { SERVER_EVENT_TYPES, WAKE_WINDOW_MS } from '../src/domain-events/domain-event.types.js';
import { checkSubmission, HONEYPOT_FIELD, type FormDefinition } from '../src/forms/form-definition.js';
import { classifyChannel, type TouchContext } from '../src/tracking/attribution.js';
import { KeyedCoalescer } from '../src/common/keyed-coalescer.js';
import { RATE_LIMIT_HIT } from '../src/common/rate-limit.repository.js';
import { PG_ERROR, pgErrorCode } from '../src/database/pg-errors.js';
import { newSubmission, recordSubmissionQuery } from '../src/forms/submission.statement.js';
import { INSERT_EVENT_BATCH } from '../src/tracking/events.repository.js';

/**
 * The raw baseline for `npm run bench`: plain Fastify + a `pg` Pool answering the benchmarked routes
 * with the same SQL, the same crypto and the same JSON as the app, and nothing else (no Nest, guards,
 * passport, pipes, helmet, request ids or metrics). The app's cost is measured against this.
 * Keep each query byte-for-byte equal to what the app sends (see the source named above each one):
 * `npm run bench` compares the statements both sides send for one request of each scenario.
 * The pure business functions (form field checks, channel attribution, what a checked submission
 * writes and its statement parameters, the wake-up coalescer) are the app's own, imported: they are
 * the same work on both sides, and the bench measures what is around them. The hot statements are named (prepared once per
 * connection) on both sides, as src/database/prepared.ts does.
 */

// Same defaults as the app: a pool of DATABASE_POOL_SIZE (10) connections.
const env = {
  databaseUrl: required('DATABASE_URL'),
  port: Number(process.env.PORT ?? 3001),
  host: process.env.HOST ?? '127.0.0.1',
  jwtSecret: required('JWT_SECRET'),
  poolSize: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  // AppConfig defaults; the bench raises both so it measures throughput, not 429s.
  submissionLimitPerIp: Number(process.env.SUBMISSION_LIMIT_PER_IP ?? 20),
  submissionLimitPerForm: Number(process.env.SUBMISSION_LIMIT_PER_FORM ?? 6000),
  // AppConfig.JOBS_SCHEMA.
  jobsSchema: process.env.JOBS_SCHEMA ?? 'pgboss',
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`baseline: ${name} is required`);
    process.exit(1);
  }
  return value;
}

type Role = 'owner' | 'admin' | 'marketer' | 'viewer';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface WorkspaceRow {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

interface MyWorkspaceRow {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
}

interface ActiveKeyRow {
  id: string;
  workspaceId: string;
  kind: 'secret' | 'publishable';
  role: Role | null;
  lastUsedAt: Date | null;
}

// UsersRepository.findProfile.
const SELECT_USER = `SELECT id, email, name, created_at AS "createdAt", updated_at AS "updatedAt" FROM users WHERE id = $1`;

// WorkspacesRepository.findById.
const SELECT_WORKSPACE = `SELECT id, name, created_at AS "createdAt", updated_at AS "updatedAt" FROM workspaces WHERE id = $1`;

// WorkspacesRepository.listForUser.
const LIST_WORKSPACES_FOR_USER = `SELECT w.id, w.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.user_id = $1 AND ($2::timestamptz IS NULL OR (m.created_at, w.id) > ($2::timestamptz, $3::uuid))
        ORDER BY m.created_at, w.id
        LIMIT $4`;

// ApiKeysRepository.findActiveByHash and touch.
const FIND_ACTIVE_KEY = `SELECT id, workspace_id AS "workspaceId", kind, role, last_used_at AS "lastUsedAt"
         FROM api_keys WHERE token_hash = $1 AND revoked_at IS NULL`;
const TOUCH_KEY = `UPDATE api_keys SET last_used_at = now() WHERE id = $1`;

// ---- lead capture (issue 3)

// FormsRepository.findActive: by id, or by slug.
const findActiveFormSql = (byId: boolean): string => `SELECT id, workspace_id AS "workspaceId", slug, version, definition FROM forms
        WHERE ${byId ? 'id = $1::uuid' : 'slug = $1'} AND status = 'active'`;

// RateLimitRepository.hit, SubmissionsRepository.record and EventsRepository.insertBatch: named
// statements, sent as { name, text, values } exactly as runPrepared does.
const named = (p: { name: string; text: string }, values: unknown[]) => ({ name: p.name, text: p.text, values });

// AuthService: WORKSPACES_IN_SESSION (100), fetched as limit + 1 to know whether there is more.
const WORKSPACES_IN_SESSION = 100;
// ApiKeysService: last_used_at written at most once a minute.
const TOUCH_INTERVAL_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Like src/auth/jwt-key.ts: a KeyObject, so jsonwebtoken does not try the secret as a PEM key first.
const jwtKey = createSecretKey(Buffer.from(env.jwtSecret, 'utf8'));

const pool = new pg.Pool({ connectionString: env.databaseUrl, max: env.poolSize, application_name: 'leadnest-baseline' });

// JobsService: pg-boss in the same database with its own small pool, started as the app's api role
// starts it (no supervision, no cron, no workers). Jobs sent in a transaction go through that
// transaction's client instead (the `db` executor), exactly as JobsService.send does with `manager`.
const boss = new PgBoss({
  connectionString: env.databaseUrl,
  schema: env.jobsSchema,
  max: 4,
  application_name: 'leadnest-baseline-jobs',
  pollingIntervalSeconds: 2,
  supervise: false,
  schedule: false,
});
boss.on('error', (err: Error & { code?: string }) => console.warn(`baseline: pg-boss: ${err.message} (${err.code ?? 'no code'})`));
await boss.start();

/**
 * DomainEventsService.wakeSoon: the workspace's rule evaluation, one waiting job per workspace
 * ('stately'), sent through pg-boss's pool once per WAKE_WINDOW_MS after the commits it stands for.
 */
const wakeUps = new KeyedCoalescer(
  WAKE_WINDOW_MS,
  async (workspaceId) => {
    await boss.send('funnels-evaluate', { workspaceId }, { singletonKey: workspaceId });
  },
  (err) => console.warn(`baseline: could not wake the funnel engine: ${(err as Error).message}`),
);
const app = Fastify({ logger: false });

// Same extraction as src/auth/strategies.ts bearerToken().
function bearerToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (!header || !header.startsWith('Bearer ')) return null;
  return header.slice(7).trim() || null;
}

function problem(reply: FastifyReply, status: number, title: string): FastifyReply {
  return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status });
}

// Same as ApiKeysService: last_used_at written at most once a minute per key and process.
const touched = new Map<string, number>();

/** ApiKeyStrategy + ApiKeysService.authenticate: one indexed read, a throttled touch. */
async function authenticateKey(req: FastifyRequest): Promise<ActiveKeyRow | null> {
  const token = bearerToken(req);
  if (!token || !/^(sk|pk)_/.test(token)) return null;
  const hash = createHash('sha256').update(token).digest('hex');
  const keys = await pool.query<ActiveKeyRow>(FIND_ACTIVE_KEY, [hash]);
  const key = keys.rows[0];
  if (!key) return null;
  const now = Date.now();
  const stale = !key.lastUsedAt || now - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS;
  if (stale && now - (touched.get(key.id) ?? 0) > TOUCH_INTERVAL_MS) {
    if (touched.size > 10_000) touched.clear();
    touched.set(key.id, now);
    pool.query(TOUCH_KEY, [key.id]).catch((err: unknown) => console.warn('baseline: could not record key use', err));
  }
  return key;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The context object of a submission or an event: string values only (the app's DTO says so). */
function stringRecord(value: unknown): Record<string, string> | null {
  if (value === undefined) return {};
  if (!isRecord(value)) return null;
  for (const v of Object.values(value)) if (typeof v !== 'string') return null;
  return value as Record<string, string>;
}

app.get('/health', async () => {
  await pool.query('SELECT 1');
  return { status: 'ok' };
});

app.get('/v1/me', async (req, reply) => {
  const token = bearerToken(req);
  if (!token) return problem(reply, 401, 'Unauthorized');
  let sub: unknown;
  try {
    // passport-jwt verifies with jsonwebtoken, HS256 only: the same work here.
    const payload = jwt.verify(token, jwtKey, { algorithms: ['HS256'] });
    sub = typeof payload === 'string' ? undefined : payload.sub;
  } catch {
    return problem(reply, 401, 'Unauthorized');
  }
  if (typeof sub !== 'string') return problem(reply, 401, 'Unauthorized');

  // AuthService.me runs both queries in parallel.
  const [users, workspaces] = await Promise.all([
    pool.query<UserRow>(SELECT_USER, [sub]),
    pool.query<MyWorkspaceRow>(LIST_WORKSPACES_FOR_USER, [sub, null, null, WORKSPACES_IN_SESSION + 1]),
  ]);
  const user = users.rows[0];
  if (!user) return problem(reply, 401, 'Unauthorized');
  return {
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      createdAt: user.createdAt.toISOString(),
    },
    workspaces: workspaces.rows
      .slice(0, WORKSPACES_IN_SESSION)
      .map((w) => ({ id: w.id, name: w.name, role: w.role, createdAt: w.createdAt.toISOString() })),
  };
});

app.get<{ Params: { workspaceId: string } }>('/v1/workspaces/:workspaceId', async (req, reply) => {
  const key = await authenticateKey(req);
  if (!key) return problem(reply, 401, 'Unauthorized');

  const { workspaceId } = req.params;
  if (!UUID.test(workspaceId) || key.workspaceId !== workspaceId) return problem(reply, 404, 'Not Found');
  if (key.kind === 'publishable' || !key.role) return problem(reply, 403, 'Forbidden');

  const rows = await pool.query<WorkspaceRow>(SELECT_WORKSPACE, [workspaceId]);
  const w = rows.rows[0];
  if (!w) return problem(reply, 404, 'Not Found');
  return { id: w.id, name: w.name, role: key.role, createdAt: w.createdAt.toISOString() };
});

// ---- lead capture: the public submission and event ingestion

interface PublicFormRow {
  id: string;
  workspaceId: string;
  slug: string;
  version: number;
  definition: FormDefinition;
}

// ActiveFormsCache: active forms by id or slug (misses too) for 5 s, at most 10,000 entries.
const FORM_CACHE_TTL_MS = 5_000;
const FORM_CACHE_MAX_ENTRIES = 10_000;
const formCache = new Map<string, { form: PublicFormRow | null; at: number }>();

async function activeForm(idOrSlug: string): Promise<PublicFormRow | null> {
  const hit = formCache.get(idOrSlug);
  if (hit && Date.now() - hit.at < FORM_CACHE_TTL_MS) return hit.form;
  const rows = await pool.query<PublicFormRow>(findActiveFormSql(UUID.test(idOrSlug)), [idOrSlug]);
  const form = rows.rows[0] ?? null;
  if (formCache.size >= FORM_CACHE_MAX_ENTRIES) formCache.clear();
  formCache.set(idOrSlug, { form, at: Date.now() });
  return form;
}

// SubmissionsService and PublicFormsController.
const PUBLIC_BODY_LIMIT_BYTES = 65_536;
const SUBMISSION_WINDOW_SECONDS = 60;

/** SubmissionsService.submit without Idempotency-Key and without double opt-in: the bench's path. */
app.post<{ Params: { formId: string } }>('/v1/public/forms/:formId/submissions', { bodyLimit: PUBLIC_BODY_LIMIT_BYTES }, async (req, reply) => {
  // The app's DTO validation, reduced to the shape this handler relies on.
  const body: unknown = req.body;
  if (!isRecord(body) || !isRecord(body.fields) || (body.consent !== undefined && !isRecord(body.consent))) return problem(reply, 400, 'Bad Request');
  const context = stringRecord(body.context);
  if (!context) return problem(reply, 400, 'Bad Request');
  // Replays and the confirmation job are not reproduced here: say so rather than measure less work.
  if (req.headers['idempotency-key'] !== undefined) return problem(reply, 501, 'Idempotency-Key is not implemented in the baseline');

  const { formId } = req.params;
  const form = await activeForm(formId);
  if (!form) return problem(reply, 404, 'Not Found');
  const def = form.definition;
  const origin = req.headers.origin;
  if (origin && def.allowedOrigins.length > 0 && !def.allowedOrigins.includes(origin)) return problem(reply, 403, 'Forbidden');
  const honeypot = body[HONEYPOT_FIELD];
  const startedAt = body.startedAt;
  const tooFast = typeof startedAt === 'number' && Date.now() - startedAt < def.minFillSeconds * 1000;
  if ((typeof honeypot === 'string' && honeypot.trim() !== '') || tooFast) return problem(reply, 422, 'Unprocessable Entity');

  const ip = req.ip;
  // Both limits share the 60 s window: one statement, keys deduplicated and sorted as the app does.
  const max = new Map([
    [`submit:ip:${form.id}:${ip}`, env.submissionLimitPerIp],
    [`submit:form:${form.id}`, env.submissionLimitPerForm],
  ]);
  const counted = await pool.query<{ key: string; hits: number; resetInSeconds: number }>(
    named(RATE_LIMIT_HIT, [[...new Set(max.keys())].sort(), SUBMISSION_WINDOW_SECONDS]),
  );
  if (counted.rows.some((c) => c.hits > (max.get(c.key) ?? Infinity))) return problem(reply, 429, 'Too Many Requests');

  const checked = checkSubmission(def, body.fields, body.consent ?? {});
  if (!checked.ok) return problem(reply, 400, 'Bad Request');
  const submission = newSubmission({
    form: { id: form.id, workspaceId: form.workspaceId, version: form.version, tags: def.tags, doubleOptIn: def.doubleOptIn },
    value: checked.value,
    context,
    ip,
    userAgent: req.headers['user-agent']?.slice(0, 500) ?? null,
    idempotencyKey: null,
    requestHash: null,
  });
  if (submission.status === 202) return problem(reply, 501, 'Double opt-in is not implemented in the baseline');
  const { statement, values } = recordSubmissionQuery(submission);
  // One statement, its own transaction; run again when a concurrent insert of the same new person won.
  let submissionId: string;
  for (let attempt = 0; ; attempt++) {
    try {
      const rows = await pool.query<{ submissionId: string; contactId: string }>(named(statement, values));
      submissionId = rows.rows[0].submissionId;
      break;
    } catch (err) {
      if (pgErrorCode(err) !== PG_ERROR.uniqueViolation || attempt >= 2) throw err;
    }
  }
  wakeUps.schedule(form.workspaceId);
  return reply.code(201).send({ submissionId, status: 'received', message: def.successMessage, redirectUrl: def.redirectUrl ?? null });
});

// EventsService and TrackedEventDto.
const MAX_BATCH = 100;
const MAX_FUTURE_MS = 5 * 60_000;
const MAX_PAST_MS = 30 * 86_400_000;
const MAX_JSON = 8_192;
const EVENT_TYPE = /^[a-z][a-z0-9_.:-]{0,63}$/;
const ANONYMOUS_ID = /^[\w-]{8,64}$/;

/** EventsController + EventsService.ingest with a publishable key: one INSERT … SELECT FROM unnest. */
app.post('/v1/public/events', { bodyLimit: PUBLIC_BODY_LIMIT_BYTES }, async (req, reply) => {
  const key = await authenticateKey(req);
  if (!key) return problem(reply, 401, 'Unauthorized');
  const body: unknown = req.body;
  if (!isRecord(body) || !Array.isArray(body.events) || body.events.length < 1 || body.events.length > MAX_BATCH) return problem(reply, 400, 'Bad Request');
  const now = Date.now();
  const rows: { type: string; anonymousId: string | null; properties: string; context: string; channel: string | null; occurredAt: string }[] = [];
  for (const e of body.events as unknown[]) {
    if (!isRecord(e) || typeof e.type !== 'string' || !EVENT_TYPE.test(e.type)) return problem(reply, 400, 'Bad Request');
    const anonymousId = e.anonymousId;
    // A publishable key may not name contacts; the bench sends anonymous events only.
    if (typeof anonymousId !== 'string' || !ANONYMOUS_ID.test(anonymousId) || e.contactId !== undefined) return problem(reply, 400, 'Bad Request');
    const context = e.context === undefined ? undefined : stringRecord(e.context);
    if (context === null || (e.properties !== undefined && !isRecord(e.properties))) return problem(reply, 400, 'Bad Request');
    const at = typeof e.occurredAt === 'string' ? Date.parse(e.occurredAt) : now;
    if (!(at <= now + MAX_FUTURE_MS && at >= now - MAX_PAST_MS)) return problem(reply, 400, 'Bad Request');
    const properties = JSON.stringify(e.properties ?? {});
    if (properties.length > MAX_JSON) return problem(reply, 400, 'Bad Request');
    rows.push({
      type: e.type,
      anonymousId,
      properties,
      context: JSON.stringify(context ?? {}),
      channel: context ? classifyChannel(context as TouchContext) : null,
      occurredAt: new Date(at).toISOString(),
    });
  }
  const result = await pool.query<{ accepted: number; recorded: number }>(named(INSERT_EVENT_BATCH, [
    key.workspaceId,
    rows.map((r) => r.type),
    rows.map((r) => r.anonymousId),
    rows.map(() => null),
    rows.map((r) => r.properties),
    rows.map((r) => r.context),
    rows.map((r) => r.channel),
    rows.map((r) => r.occurredAt),
    key.kind === 'secret',
    SERVER_EVENT_TYPES,
  ]));
  const { accepted, recorded } = result.rows[0];
  // EventsService.ingest: after the statement (autocommit), coalesced.
  if (recorded > 0) wakeUps.schedule(key.workspaceId);
  return reply.code(202).send({ accepted });
});

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await app.close();
  await wakeUps.flush();
  await boss.stop({ graceful: false, wait: true });
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ port: env.port, host: env.host });
console.log('ready');
