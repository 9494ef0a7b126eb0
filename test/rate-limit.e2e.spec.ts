import { expectProblem, newWorkspace, uniqueEmail } from './support/factories.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ LOGIN_LIMIT_PER_ACCOUNT: 3, LOGIN_LIMIT_PER_IP: 6, SIGNUP_LIMIT_PER_IP: 4 });
});
afterAll(() => t.close());

describe('rate limits', () => {
  it('limits login attempts per account, with Retry-After, even with the right password', async () => {
    const s = await newWorkspace(t);
    for (let i = 0; i < 3; i++) await t.http().post('/v1/auth/login').send({ email: s.email, password: 'wrong password' }).expect(401);
    const limited = await t.http().post('/v1/auth/login').send({ email: s.email, password: s.password }).expect(429);
    expectProblem(limited.body, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(t.config.LOGIN_LIMIT_WINDOW_SECONDS);
  });

  it('limits login attempts per IP across accounts, and a new window lets them in again', async () => {
    // The previous test used 4 of this IP's 6; two more, then 429 whatever the account.
    await t.http().post('/v1/auth/login').send({ email: uniqueEmail(), password: 'x' }).expect(401);
    await t.http().post('/v1/auth/login').send({ email: uniqueEmail(), password: 'x' }).expect(401);
    await t.http().post('/v1/auth/login').send({ email: uniqueEmail(), password: 'x' }).expect(429);
    await t.sql(`UPDATE rate_limits SET window_start = now() - interval '1 day' WHERE key LIKE 'login:%'`);
    await t.http().post('/v1/auth/login').send({ email: uniqueEmail(), password: 'x' }).expect(401);
  });

  it('limits signups per IP and stores nothing when limited', async () => {
    // One signup happened in the first test.
    for (let i = 0; i < 3; i++) await newWorkspace(t);
    const email = uniqueEmail('limited');
    const res = await t.http().post('/v1/auth/signup').send({ email, password: 'long enough pw', workspaceName: 'w' }).expect(429);
    expect(res.headers['retry-after']).toBeDefined();
    expect(await t.sql('SELECT 1 FROM users WHERE email = $1', [email])).toEqual([]);
  });
});
