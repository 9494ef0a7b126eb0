import { createHash } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import pg from 'pg';

/**
 * The raw baseline for `npm run bench`: plain Fastify + a `pg` Pool answering the benchmarked routes
 * with the same SQL, the same crypto and the same JSON as the app, and nothing else (no Nest, guards,
 * passport, pipes, helmet, request ids or metrics). The app's cost is measured against this.
 * Keep each query byte-for-byte equal to what the app sends (see the source named above each one).
 */

// Same defaults as the app: a pool of DATABASE_POOL_SIZE (10) connections.
const env = {
  databaseUrl: required('DATABASE_URL'),
  port: Number(process.env.PORT ?? 3001),
  host: process.env.HOST ?? '127.0.0.1',
  jwtSecret: required('JWT_SECRET'),
  poolSize: Number(process.env.DATABASE_POOL_SIZE ?? 10),
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
  UserEntity_id: string;
  UserEntity_email: string;
  UserEntity_name: string | null;
  UserEntity_password_hash: string;
  UserEntity_created_at: Date;
  UserEntity_updated_at: Date;
}

interface WorkspaceRow {
  WorkspaceEntity_id: string;
  WorkspaceEntity_name: string;
  WorkspaceEntity_created_at: Date;
  WorkspaceEntity_updated_at: Date;
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

// UsersRepository.findById → TypeORM findOneBy({ id }); text captured from TypeORM's query log.
const SELECT_USER =
  'SELECT "UserEntity"."id" AS "UserEntity_id", "UserEntity"."email" AS "UserEntity_email", "UserEntity"."name" AS "UserEntity_name", "UserEntity"."password_hash" AS "UserEntity_password_hash", "UserEntity"."created_at" AS "UserEntity_created_at", "UserEntity"."updated_at" AS "UserEntity_updated_at" FROM "users" "UserEntity" WHERE (("UserEntity"."id" = $1)) LIMIT 1';

// WorkspacesRepository.findById → TypeORM findOneBy({ id }).
const SELECT_WORKSPACE =
  'SELECT "WorkspaceEntity"."id" AS "WorkspaceEntity_id", "WorkspaceEntity"."name" AS "WorkspaceEntity_name", "WorkspaceEntity"."created_at" AS "WorkspaceEntity_created_at", "WorkspaceEntity"."updated_at" AS "WorkspaceEntity_updated_at" FROM "workspaces" "WorkspaceEntity" WHERE (("WorkspaceEntity"."id" = $1)) LIMIT 1';

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

// AuthService: WORKSPACES_IN_SESSION (100), fetched as limit + 1 to know whether there is more.
const WORKSPACES_IN_SESSION = 100;
// ApiKeysService: last_used_at written at most once a minute.
const TOUCH_INTERVAL_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const pool = new pg.Pool({ connectionString: env.databaseUrl, max: env.poolSize, application_name: 'leadnest-baseline' });
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
    const payload = jwt.verify(token, env.jwtSecret, { algorithms: ['HS256'] });
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
      id: user.UserEntity_id,
      email: user.UserEntity_email,
      name: user.UserEntity_name,
      createdAt: user.UserEntity_created_at.toISOString(),
    },
    workspaces: workspaces.rows
      .slice(0, WORKSPACES_IN_SESSION)
      .map((w) => ({ id: w.id, name: w.name, role: w.role, createdAt: w.createdAt.toISOString() })),
  };
});

app.get<{ Params: { workspaceId: string } }>('/v1/workspaces/:workspaceId', async (req, reply) => {
  const token = bearerToken(req);
  if (!token || !/^(sk|pk)_/.test(token)) return problem(reply, 401, 'Unauthorized');
  const hash = createHash('sha256').update(token).digest('hex');
  const keys = await pool.query<ActiveKeyRow>(FIND_ACTIVE_KEY, [hash]);
  const key = keys.rows[0];
  if (!key) return problem(reply, 401, 'Unauthorized');
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    pool.query(TOUCH_KEY, [key.id]).catch((err: unknown) => console.warn('baseline: could not record key use', err));
  }

  const { workspaceId } = req.params;
  if (!UUID.test(workspaceId) || key.workspaceId !== workspaceId) return problem(reply, 404, 'Not Found');
  if (key.kind === 'publishable' || !key.role) return problem(reply, 403, 'Forbidden');

  const rows = await pool.query<WorkspaceRow>(SELECT_WORKSPACE, [workspaceId]);
  const w = rows.rows[0];
  if (!w) return problem(reply, 404, 'Not Found');
  return { id: w.WorkspaceEntity_id, name: w.WorkspaceEntity_name, role: key.role, createdAt: w.WorkspaceEntity_created_at.toISOString() };
});

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await app.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ port: env.port, host: env.host });
console.log('ready');
