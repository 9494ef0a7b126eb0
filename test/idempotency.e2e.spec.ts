import { DataSource } from 'typeorm';
import { IdempotencyRepository } from '../src/common/idempotency.repository.js';
import { addMember, bearer, createKey, expectProblem, newWorkspace, type Session } from './support/factories.js';
import { FORM_BODY } from './support/forms.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let owner: Session;
beforeAll(async () => {
  t = await createTestApp();
  owner = await newWorkspace(t);
});
afterAll(() => t.close());

let keys = 0;
const newKey = () => `retry-${Date.now()}-${++keys}`;
const formsOf = (s: Session) => `/v1/workspaces/${s.workspaceId}/forms`;
const createForm = (s: Session, key: string | null, body: Record<string, unknown> = FORM_BODY, token = s.accessToken) => {
  const req = t.http().post(formsOf(s)).set(...bearer(token));
  return (key === null ? req : req.set('idempotency-key', key)).send(body);
};
const formCount = async (s: Session) =>
  (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM forms WHERE workspace_id = $1`, [s.workspaceId]))[0].n;
const kept = (key: string) => t.sql<{ status: number | null }>(`SELECT status FROM idempotent_requests WHERE key = $1`, [key]);

describe('Idempotency-Key on admin POSTs', () => {
  it('answers a retry with the first answer and creates once', async () => {
    const before = await formCount(owner);
    const key = newKey();
    const first = await createForm(owner, key).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await createForm(owner, key).expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await formCount(owner)).toBe(before + 1);
    // Without a key, the same request creates again.
    await createForm(owner, null).expect(201);
    expect(await formCount(owner)).toBe(before + 2);
  });

  it('refuses the same key for another request, and a malformed key, storing nothing', async () => {
    const key = newKey();
    await createForm(owner, key).expect(201);
    const before = await formCount(owner);
    expectProblem((await createForm(owner, key, { ...FORM_BODY, name: 'Another' }).expect(422)).body, 422, 'idempotency_key_reused');
    // The same body to another route is another request too.
    const funnel = await t
      .http()
      .post(`/v1/workspaces/${owner.workspaceId}/funnels`)
      .set(...bearer(owner.accessToken))
      .set('idempotency-key', key)
      .send({ name: 'F', stages: [{ key: 'lead', name: 'Lead', rules: [{ event: 'form.submitted' }] }] })
      .expect(422);
    expectProblem(funnel.body, 422, 'idempotency_key_reused');
    const malformed = await createForm(owner, 'short').expect(400);
    expectProblem(malformed.body, 400, 'validation_failed');
    expect(malformed.body.errors).toEqual([{ field: 'Idempotency-Key', message: expect.stringContaining('8-200') }]);
    expect(await formCount(owner)).toBe(before);
    expect(await kept('short')).toEqual([]);
  });

  it('gives the key back when the request fails, so the corrected retry runs', async () => {
    const key = newKey();
    const before = await formCount(owner);
    await createForm(owner, key, { ...FORM_BODY, colour: 'red' }).expect(400);
    expect(await kept(key)).toEqual([]);
    await createForm(owner, key).expect(201);
    expect(await formCount(owner)).toBe(before + 1);
    expect(await kept(key)).toEqual([{ status: 201 }]);
  });

  it('keeps keys apart per caller: another member or a secret key with the same key acts on its own', async () => {
    const marketer = await addMember(t, owner, 'marketer');
    const secret = await createKey(t, owner, 'secret', 'marketer');
    const key = newKey();
    const before = await formCount(owner);
    const mine = await createForm(owner, key).expect(201);
    const theirs = await createForm(owner, key, FORM_BODY, marketer.accessToken).expect(201);
    const server = await createForm(owner, key, FORM_BODY, secret.key).expect(201);
    expect(new Set([mine.body.id, theirs.body.id, server.body.id]).size).toBe(3);
    expect(await formCount(owner)).toBe(before + 3);
    // Another workspace's owner with the same key, too.
    const other = await newWorkspace(t, 'other');
    await createForm(other, key).expect(201);
    expect(await formCount(other)).toBe(1);
  });

  it('tells a retry to wait while the first request still runs, then answers it', async () => {
    const key = newKey();
    const before = await formCount(owner);
    const blocker = t.app.get(DataSource).createQueryRunner();
    await blocker.connect();
    let first: Promise<{ status: number; body: { id: string } }> | undefined;
    try {
      await blocker.startTransaction();
      // The first request's form insert waits for this lock, holding its key meanwhile.
      await blocker.query(`LOCK TABLE forms IN SHARE ROW EXCLUSIVE MODE`);
      first = createForm(owner, key).then((r) => r);
      for (let i = 0; (await kept(key)).length === 0; i++) {
        if (i > 200) throw new Error('the first request never took its key');
        await new Promise((r) => setTimeout(r, 10));
      }
      const waiting = await createForm(owner, key).expect(409);
      expectProblem(waiting.body, 409, 'idempotency_key_in_progress');
      expect(Number(waiting.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(waiting.headers['retry-after'])).toBeLessThanOrEqual(60);
    } finally {
      if (blocker.isTransactionActive) await blocker.rollbackTransaction();
      await blocker.release();
    }
    const done = await first;
    expect(done?.status).toBe(201);
    const retry = await createForm(owner, key).expect(201);
    expect(retry.body.id).toBe(done?.body.id);
    expect(await formCount(owner)).toBe(before + 1);
  });

  it('runs again after a request that took its key died, and after a day', async () => {
    const key = newKey();
    const first = await createForm(owner, key).expect(201);
    // As if its process died after taking the key: no answer kept, taken 10 s ago.
    await t.sql(`UPDATE idempotent_requests SET status = NULL, response = NULL, created_at = now() - interval '10 seconds' WHERE key = $1`, [key]);
    const waiting = await createForm(owner, key).expect(409);
    expect(Number(waiting.headers['retry-after'])).toBeGreaterThanOrEqual(49);
    await t.sql(`UPDATE idempotent_requests SET created_at = now() - interval '61 seconds' WHERE key = $1`, [key]);
    const again = await createForm(owner, key).expect(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.id).not.toBe(first.body.id);

    await t.sql(`UPDATE idempotent_requests SET created_at = now() - interval '25 hours' WHERE key = $1`, [key]);
    const dayLater = await createForm(owner, key).expect(201);
    expect(dayLater.body.id).not.toBe(again.body.id);
    expect(await kept(key)).toEqual([{ status: 201 }]);

    await t.sql(`UPDATE idempotent_requests SET created_at = now() - interval '25 hours' WHERE key = $1`, [key]);
    expect(await t.app.get(IdempotencyRepository).purgeExpired(86_400)).toBeGreaterThanOrEqual(1);
    expect(await kept(key)).toEqual([]);
  });

  it('replays the status a route answers with (200 for accepting an invitation)', async () => {
    const person = await newWorkspace(t, 'invitee');
    const invite = await t
      .http()
      .post(`/v1/workspaces/${owner.workspaceId}/invitations`)
      .set(...bearer(owner.accessToken))
      .send({ email: person.email, role: 'viewer' })
      .expect(201);
    const key = newKey();
    const accept = () => t.http().post('/v1/invitations/accept').set(...bearer(person.accessToken)).set('idempotency-key', key).send({ token: invite.body.token });
    const first = await accept().expect(200);
    const retry = await accept().expect(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('keeps no answer of another workspace once that workspace is deleted', async () => {
    const other = await newWorkspace(t, 'leaving');
    const key = newKey();
    await createForm(other, key).expect(201);
    expect(await kept(key)).toHaveLength(1);
    await t.sql(`DELETE FROM workspaces WHERE id = $1`, [other.workspaceId]);
    expect(await kept(key)).toEqual([]);
  });
});
