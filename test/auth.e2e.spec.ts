import { bearer, expectProblem, newWorkspace, uniqueEmail } from './support/factories.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const countUsers = async (email: string) => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]))[0].n;

describe('signup', () => {
  it('creates the user, an owned workspace and a session', async () => {
    const email = uniqueEmail();
    const res = await t
      .http()
      .post('/v1/auth/signup')
      .send({ email: `  ${email.toUpperCase()} `, password: 'long enough pw', name: 'Ada', workspaceName: 'Ada Bakes' })
      .expect(201);
    expect(res.body.user).toMatchObject({ email, name: 'Ada' });
    expect(res.body.user).not.toHaveProperty('passwordHash');
    expect(res.body.workspace).toMatchObject({ name: 'Ada Bakes', role: 'owner' });
    expect(res.body.accessToken).toEqual(expect.any(String));
    expect(res.body.refreshToken).toMatch(/^rt_/);
    const [stored] = await t.sql<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email]);
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    const [rt] = await t.sql<{ token_hash: string }>('SELECT token_hash FROM refresh_tokens WHERE user_id = $1', [res.body.user.id]);
    expect(rt.token_hash).not.toContain(res.body.refreshToken);
  });

  it('answers 409 for an email already registered, case-insensitively', async () => {
    const s = await newWorkspace(t);
    const res = await t.http().post('/v1/auth/signup').send({ email: s.email.toUpperCase(), password: 'long enough pw', workspaceName: 'x' }).expect(409);
    expectProblem(res.body, 409, 'email_taken');
    expect(await countUsers(s.email)).toBe(1);
  });

  const email = uniqueEmail('bad');
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['missing fields', {}, ['email', 'password', 'workspaceName']],
    ['a bad email', { email: 'not-an-email', password: 'long enough pw', workspaceName: 'w' }, ['email']],
    ['a short password', { email, password: 'short', workspaceName: 'w' }, ['password']],
    ['a wrong type', { email, password: 12345678901, workspaceName: 'w' }, ['password']],
    ['an unknown field', { email, password: 'long enough pw', workspaceName: 'w', isAdmin: true }, ['isAdmin']],
    ['an oversized name', { email, password: 'long enough pw', workspaceName: 'w'.repeat(101) }, ['workspaceName']],
  ];
  it.each(cases)('rejects %s with 400 naming each field, storing nothing', async (_, body, fields) => {
    const res = await t.http().post('/v1/auth/signup').send(body).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectProblem(res.body, 400, 'validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(expect.arrayContaining(fields));
    expect(await countUsers(email)).toBe(0);
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await t.http().post('/v1/auth/signup').set('content-type', 'application/json').send('{"email": "a@b.c",').expect(400);
    expectProblem(res.body, 400, 'malformed_json');
  });

  it('rejects an oversized body with 413', async () => {
    const huge = JSON.stringify({ email, password: 'x'.repeat(t.config.BODY_LIMIT_BYTES), workspaceName: 'w' });
    const res = await t.http().post('/v1/auth/signup').set('content-type', 'application/json').send(huge).expect(413);
    expectProblem(res.body, 413, 'payload_too_large');
    expect(await countUsers(email)).toBe(0);
  });
});

describe('login', () => {
  it('returns tokens, the user and their workspaces', async () => {
    const s = await newWorkspace(t);
    const res = await t.http().post('/v1/auth/login').send({ email: s.email, password: s.password }).expect(200);
    expect(res.body.user.id).toBe(s.userId);
    expect(res.body.workspaces).toEqual([expect.objectContaining({ id: s.workspaceId, role: 'owner' })]);
    await t.http().get('/v1/me').set(...bearer(res.body.accessToken)).expect(200);
  });

  it('answers the same for an unknown email and a wrong password', async () => {
    const s = await newWorkspace(t);
    const wrong = await t.http().post('/v1/auth/login').send({ email: s.email, password: 'wrong password' }).expect(401);
    const unknown = await t.http().post('/v1/auth/login').send({ email: uniqueEmail('ghost'), password: 'wrong password' }).expect(401);
    expectProblem(wrong.body, 401, 'invalid_credentials');
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
  });

  it('rejects missing fields and unknown fields with 400', async () => {
    const missing = await t.http().post('/v1/auth/login').send({ email: 'a@example.com' }).expect(400);
    expect(missing.body.errors).toEqual([{ field: 'password', message: 'password is required' }]);
    const unknown = await t.http().post('/v1/auth/login').send({ email: 'a@example.com', password: 'x', remember: true }).expect(400);
    expect(unknown.body.errors).toEqual([{ field: 'remember', message: 'unknown field' }]);
  });
});

describe('tokens', () => {
  it('GET /v1/me needs a valid token', async () => {
    expectProblem((await t.http().get('/v1/me').expect(401)).body, 401, 'unauthenticated');
    await t.http().get('/v1/me').set('authorization', 'Bearer not.a.jwt').expect(401);
    const s = await newWorkspace(t);
    const forged = s.accessToken.slice(0, -4) + (s.accessToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await t.http().get('/v1/me').set(...bearer(forged)).expect(401);
  });

  it('rotates refresh tokens: each is single use', async () => {
    const s = await newWorkspace(t);
    const first = await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    expect(first.body.refreshToken).not.toBe(s.refreshToken);
    await t.http().get('/v1/me').set(...bearer(first.body.accessToken)).expect(200);
    const second = await t.http().post('/v1/auth/refresh').send({ refreshToken: first.body.refreshToken }).expect(200);
    expect(second.body.refreshToken).toMatch(/^rt_/);
  });

  it('reusing a spent refresh token revokes the whole family', async () => {
    const s = await newWorkspace(t);
    const next = await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    const reuse = await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
    expectProblem(reuse.body, 401, 'refresh_token_reused');
    // The legitimate successor is revoked too: the thief and the owner both have to sign in again.
    const after = await t.http().post('/v1/auth/refresh').send({ refreshToken: next.body.refreshToken }).expect(401);
    expectProblem(after.body, 401, 'invalid_refresh_token');
  });

  it('logout ends the session of that refresh token', async () => {
    const s = await newWorkspace(t);
    await t.http().post('/v1/auth/logout').send({ refreshToken: s.refreshToken }).expect(204);
    await t.http().post('/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
  });

  it('rejects an unknown refresh token', async () => {
    const res = await t.http().post('/v1/auth/refresh').send({ refreshToken: 'rt_nope' }).expect(401);
    expectProblem(res.body, 401, 'invalid_refresh_token');
  });
});
