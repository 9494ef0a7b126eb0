import { randomUUID } from 'node:crypto';
import { bearer, createKey, expectProblem, newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { newForm, submit } from './support/forms.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let owner: Session;
let pk: string;
beforeAll(async () => {
  t = await createTestApp();
  owner = await newWorkspace(t);
  pk = (await createKey(t, owner, 'publishable')).key;
});
afterAll(() => t.close());

const send = (key: string, events: unknown[]) => t.http().post('/v1/public/events').set(...bearer(key)).send({ events });
const countFor = async (anonymousId: string) =>
  (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE anonymous_id = $1`, [anonymousId]))[0].n;

describe('public events', () => {
  it('stores a batch of 50 in one go, with a channel from its context', async () => {
    const anonymousId = `anon_${randomUUID()}`;
    const batch = Array.from({ length: 50 }, (_, i) => ({ type: i === 0 ? 'page_view' : 'scroll', anonymousId, properties: { i }, context: { referrer: 'https://l.instagram.com/' } }));
    const res = await send(pk, batch).expect(202);
    expect(res.body).toEqual({ accepted: 50 });
    expect(await countFor(anonymousId)).toBe(50);
    const [row] = await t.sql<{ channel: string; workspace_id: string }>(`SELECT channel, workspace_id FROM events WHERE anonymous_id = $1 LIMIT 1`, [anonymousId]);
    expect(row).toEqual({ channel: 'instagram', workspace_id: owner.workspaceId });
  });

  it('stitches events before and after the visitor becomes a contact', async () => {
    const anonymousId = `anon_${randomUUID()}`;
    await send(pk, [{ type: 'page_view', anonymousId }]).expect(202);
    const form = await newForm(t, owner);
    const email = uniqueEmail();
    await submit(t, form.id, { fields: { email }, consent: { newsletter: true }, context: { anonymousId } }).expect(201);
    await send(pk, [{ type: 'pricing_viewed', anonymousId }]).expect(202);
    const rows = await t.sql<{ type: string }>(`SELECT e.type FROM events e JOIN contacts c ON c.id = e.contact_id WHERE c.email = $1 ORDER BY e.id`, [email]);
    expect(rows.map((r) => r.type)).toEqual(['page_view', 'pricing_viewed']);
  });

  it('needs a key; a publishable key cannot name a contact; bad events store nothing', async () => {
    const anonymousId = `anon_${randomUUID()}`;
    await t.http().post('/v1/public/events').send({ events: [{ type: 'page_view', anonymousId }] }).expect(401);
    const res = await send(pk, [{ type: 'page_view', anonymousId }, { type: 'x', contactId: randomUUID() }]).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'events.1.contactId' })]);
    await send(pk, [{ type: 'Bad Type!', anonymousId }]).expect(400);
    await send(pk, [{ type: 'page_view', anonymousId, occurredAt: '2999-01-01T00:00:00Z' }]).expect(400);
    await send(pk, [{ type: 'page_view', anonymousId, extra: 1 }]).expect(400);
    await send(pk, []).expect(400);
    await send(pk, Array.from({ length: 101 }, () => ({ type: 'page_view', anonymousId }))).expect(400);
    expect(await countFor(anonymousId)).toBe(0);
    const revoked = await createKey(t, owner, 'publishable');
    await t.http().delete(`/v1/workspaces/${owner.workspaceId}/api-keys/${revoked.id}`).set(...bearer(owner.accessToken)).expect(204);
    expectProblem((await send(revoked.key, [{ type: 'page_view', anonymousId }]).expect(401)).body, 401);
    // A JWT is not a key.
    await send(owner.accessToken, [{ type: 'page_view', anonymousId }]).expect(403);
  });

  it("a secret key may name a contact of its workspace only; another workspace's contact id stays unlinked", async () => {
    const sk = (await createKey(t, owner, 'secret', 'marketer')).key;
    const form = await newForm(t, owner);
    const email = uniqueEmail();
    await submit(t, form.id, { fields: { email }, consent: { newsletter: true } }).expect(201);
    const [contact] = await t.sql<{ id: string }>(`SELECT id FROM contacts WHERE email = $1`, [email]);
    await send(sk, [{ type: 'payment.succeeded', contactId: contact.id, properties: { amount: 10 } }]).expect(202);
    const other = await newWorkspace(t, 'other');
    const otherSk = (await createKey(t, other, 'secret', 'admin')).key;
    await send(otherSk, [{ type: 'payment.succeeded', contactId: contact.id }]).expect(202);
    const rows = await t.sql<{ workspace_id: string; contact_id: string | null }>(`SELECT workspace_id, contact_id FROM events WHERE type = 'payment.succeeded' ORDER BY id`);
    expect(rows).toEqual([
      { workspace_id: owner.workspaceId, contact_id: contact.id },
      { workspace_id: other.workspaceId, contact_id: null },
    ]);
  });
});
