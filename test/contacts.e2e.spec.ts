import { randomUUID } from 'node:crypto';
import { identityHash } from '../src/contacts/identity-hash.js';
import { addMember, bearer, createKey, newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { newForm, submit } from './support/forms.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let owner: Session;
let formId: string;
beforeAll(async () => {
  t = await createTestApp({ SUBMISSION_LIMIT_PER_IP: 1000 });
  owner = await newWorkspace(t);
  formId = (await newForm(t, owner)).id;
});
afterAll(() => t.close());

const path = (p = '') => `/v1/workspaces/${owner.workspaceId}/contacts${p}`;
const get = (p: string) => t.http().get(path(p)).set(...bearer(owner.accessToken));

async function lead(context: Record<string, string>, extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = uniqueEmail('c');
  await submit(t, formId, { fields: { email, ...extra }, consent: { newsletter: true }, context }).expect(201);
  const [row] = await t.sql<{ id: string }>(`SELECT id FROM contacts WHERE email = $1`, [email]);
  return { id: row.id, email };
}

describe('contacts', () => {
  it('lists with filters, search and cursor pagination', async () => {
    const ig = await lead({ utm_source: 'instagram' }, { first_name: 'Zelda' });
    const fb = await lead({ referrer: 'https://l.facebook.com/' });
    const wa = await lead({ referrer: 'https://wa.me/1' });
    const byChannel = await get('?firstChannel=instagram').expect(200);
    expect(byChannel.body.data.map((c: { id: string }) => c.id)).toEqual([ig.id]);
    const search = await get('?q=zeld').expect(200);
    expect(search.body.data.map((c: { id: string }) => c.id)).toEqual([ig.id]);
    const byEmail = await get(`?q=${encodeURIComponent(fb.email.slice(0, 10))}`).expect(200);
    expect(byEmail.body.data.map((c: { id: string }) => c.id)).toContain(fb.id);
    const tagged = await get('?tag=giveaway&emailStatus=subscribed').expect(200);
    expect(tagged.body.data.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await get(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...page.body.data.map((c) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 3)).toEqual([wa.id, fb.id, ig.id]);
    expect(new Set(seen).size).toBe(seen.length);
    await get('?firstChannel=myspace').expect(400);
    await get('?createdFrom=yesterday').expect(400);
    const none = await get(`?createdFrom=${new Date(Date.now() + 60_000).toISOString()}`).expect(200);
    expect(none.body.data).toEqual([]);
  });

  it('gets, patches attributes and tags, shows consents and a timeline', async () => {
    const c = await lead({ utm_source: 'tiktok' }, { size: 'L' });
    const res = await get(`/${c.id}`).expect(200);
    expect(res.body).toMatchObject({ email: c.email, attributes: { size: 'L' }, firstTouch: { channel: 'tiktok' } });
    const patched = await t
      .http()
      .patch(path(`/${c.id}`))
      .set(...bearer(owner.accessToken))
      .send({ lastName: 'Lovelace', attributes: { plan: 'pro', size: null }, addTags: ['vip'], removeTags: ['giveaway'] })
      .expect(200);
    expect(patched.body).toMatchObject({ lastName: 'Lovelace', attributes: { plan: 'pro' }, tags: ['vip'] });
    expect(patched.body.attributes).not.toHaveProperty('size');
    await t.http().patch(path(`/${c.id}`)).set(...bearer(owner.accessToken)).send({ email: 'x@y.z' }).expect(400);
    const consents = await get(`/${c.id}/consents`).expect(200);
    expect(consents.body.data).toEqual([expect.objectContaining({ channel: 'email', status: 'granted', source: 'form', wording: expect.any(String) })]);
    const timeline = await get(`/${c.id}/timeline`).expect(200);
    expect(timeline.body.data.map((e: { kind: string }) => e.kind).sort()).toEqual(['consent', 'submission']);
  });

  it('erases personal data and keeps a suppression hash', async () => {
    const c = await lead({}, { phone: '+1 415 555 0199', first_name: 'Erin' });
    const [sub] = await t.sql<{ id: string }>(`SELECT id FROM submissions WHERE contact_id = $1`, [c.id]);
    await t.http().delete(path(`/${c.id}`)).set(...bearer(owner.accessToken)).expect(204);
    await get(`/${c.id}`).expect(404);
    expect(await t.sql(`SELECT 1 FROM contacts WHERE email = $1`, [c.email])).toEqual([]);
    const [scrubbed] = await t.sql<{ values: object; ip: string | null }>(`SELECT "values", ip FROM submissions WHERE id = $1`, [sub.id]);
    expect(scrubbed).toEqual({ values: {}, ip: null });
    const hashes = await t.sql<{ identity_hash: string }>(`SELECT identity_hash FROM suppressions WHERE workspace_id = $1 ORDER BY 1`, [owner.workspaceId]);
    expect(hashes.map((h) => h.identity_hash).sort()).toEqual([identityHash(c.email), identityHash('+14155550199')].sort());
    await t.http().delete(path(`/${c.id}`)).set(...bearer(owner.accessToken)).expect(404);
  });

  it('viewers read but cannot change; a viewer key reads', async () => {
    const c = await lead({});
    const viewer = await addMember(t, owner, 'viewer');
    await t.http().get(path(`/${c.id}`)).set(...bearer(viewer.accessToken)).expect(200);
    await t.http().patch(path(`/${c.id}`)).set(...bearer(viewer.accessToken)).send({ addTags: ['x'] }).expect(403);
    await t.http().delete(path(`/${c.id}`)).set(...bearer(viewer.accessToken)).expect(403);
    const key = await createKey(t, owner, 'secret', 'viewer');
    await t.http().get(path()).set(...bearer(key.key)).expect(200);
  });

  it("is isolated: another workspace's token or key gets 404 on every contact route", async () => {
    const c = await lead({});
    const other = await newWorkspace(t, 'other');
    const otherKey = await createKey(t, other, 'secret', 'admin');
    for (const credential of [other.accessToken, otherKey.key]) {
      for (const [method, p, body] of [
        ['get', ''],
        ['get', `/${c.id}`],
        ['patch', `/${c.id}`, { addTags: ['pwned'] }],
        ['delete', `/${c.id}`],
        ['get', `/${c.id}/consents`],
        ['get', `/${c.id}/timeline`],
      ] as const) {
        const req = t.http()[method](path(p)).set(...bearer(credential));
        const res = await (body ? req.send(body) : req);
        expect({ p, method, status: res.status }).toEqual({ p, method, status: 404 });
      }
      // Their own workspace path with our contact id: not found either.
      await t.http().get(`/v1/workspaces/${other.workspaceId}/contacts/${c.id}`).set(...bearer(credential)).expect(404);
    }
    const ownList = await t.http().get(`/v1/workspaces/${other.workspaceId}/contacts`).set(...bearer(other.accessToken)).expect(200);
    expect(ownList.body.data).toEqual([]);
    await get(`/${randomUUID()}`).expect(404);
    const [row] = await t.sql<{ tags: string[] }>(`SELECT tags FROM contacts WHERE id = $1`, [c.id]);
    expect(row.tags).not.toContain('pwned');
  });
});
