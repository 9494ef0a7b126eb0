import { randomUUID } from 'node:crypto';
import { addMember, bearer, createKey, expectProblem, newWorkspace, type Session } from './support/factories.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const ws = (s: Session, path = '') => `/v1/workspaces/${s.workspaceId}${path}`;

describe('workspaces', () => {
  it('creates more, lists mine with cursor pagination, renames', async () => {
    const s = await newWorkspace(t);
    for (const name of ['Second', 'Third']) {
      const res = await t.http().post('/v1/workspaces').set(...bearer(s.accessToken)).send({ name }).expect(201);
      expect(res.body).toMatchObject({ name, role: 'owner' });
    }
    const page1 = await t.http().get('/v1/workspaces?limit=2').set(...bearer(s.accessToken)).expect(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await t.http().get(`/v1/workspaces?limit=2&cursor=${page1.body.nextCursor}`).set(...bearer(s.accessToken)).expect(200);
    expect(page2.body).toEqual({ data: [expect.objectContaining({ name: 'Third' })], nextCursor: null });

    const renamed = await t.http().patch(ws(s)).set(...bearer(s.accessToken)).send({ name: '  Renamed  ' }).expect(200);
    expect(renamed.body.name).toBe('Renamed');
    await t.http().patch(ws(s)).set(...bearer(s.accessToken)).send({ name: '' }).expect(400);
    await t.http().get('/v1/workspaces?cursor=garbage').set(...bearer(s.accessToken)).expect(400);
  });
});

describe('members and roles', () => {
  it('invites by email; only that email can accept, once', async () => {
    const owner = await newWorkspace(t);
    const invitee = await newWorkspace(t, 'invitee');
    const stranger = await newWorkspace(t, 'stranger');
    const invite = await t.http().post(ws(owner, '/invitations')).set(...bearer(owner.accessToken)).send({ email: invitee.email.toUpperCase(), role: 'marketer' }).expect(201);
    expect(invite.body).toMatchObject({ email: invitee.email, role: 'marketer', token: expect.stringMatching(/^inv_/) });
    const pending = await t.http().get(ws(owner, '/invitations')).set(...bearer(owner.accessToken)).expect(200);
    expect(pending.body.data).toEqual([expect.objectContaining({ id: invite.body.id })]);
    expect(pending.body.data[0]).not.toHaveProperty('token');

    const wrong = await t.http().post('/v1/invitations/accept').set(...bearer(stranger.accessToken)).send({ token: invite.body.token }).expect(403);
    expectProblem(wrong.body, 403, 'invitation_email_mismatch');
    const ok = await t.http().post('/v1/invitations/accept').set(...bearer(invitee.accessToken)).send({ token: invite.body.token }).expect(200);
    expect(ok.body).toMatchObject({ id: owner.workspaceId, role: 'marketer' });
    await t.http().post('/v1/invitations/accept').set(...bearer(invitee.accessToken)).send({ token: invite.body.token }).expect(404);

    const again = await t.http().post(ws(owner, '/invitations')).set(...bearer(owner.accessToken)).send({ email: invitee.email, role: 'viewer' }).expect(409);
    expectProblem(again.body, 409, 'already_member');
  });

  it('revoked and expired invitations cannot be accepted', async () => {
    const owner = await newWorkspace(t);
    const invitee = await newWorkspace(t, 'invitee');
    const a = await t.http().post(ws(owner, '/invitations')).set(...bearer(owner.accessToken)).send({ email: invitee.email, role: 'viewer' }).expect(201);
    await t.http().delete(ws(owner, `/invitations/${a.body.id}`)).set(...bearer(owner.accessToken)).expect(204);
    await t.http().post('/v1/invitations/accept').set(...bearer(invitee.accessToken)).send({ token: a.body.token }).expect(404);
    const b = await t.http().post(ws(owner, '/invitations')).set(...bearer(owner.accessToken)).send({ email: invitee.email, role: 'viewer' }).expect(201);
    await t.sql(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [b.body.id]);
    await t.http().post('/v1/invitations/accept').set(...bearer(invitee.accessToken)).send({ token: b.body.token }).expect(404);
  });

  it('enforces the role matrix', async () => {
    const owner = await newWorkspace(t);
    const admin = await addMember(t, owner, 'admin');
    const marketer = await addMember(t, owner, 'marketer');
    const viewer = await addMember(t, owner, 'viewer');

    // Everyone can read the workspace and its members.
    for (const s of [owner, admin, marketer, viewer]) {
      await t.http().get(ws(owner)).set(...bearer(s.accessToken)).expect(200);
      const members = await t.http().get(ws(owner, '/members')).set(...bearer(s.accessToken)).expect(200);
      expect(members.body.data).toHaveLength(4);
    }
    // Viewer and marketer cannot rename, invite, change roles or manage keys.
    for (const s of [marketer, viewer]) {
      expectProblem((await t.http().patch(ws(owner)).set(...bearer(s.accessToken)).send({ name: 'x' }).expect(403)).body, 403, 'insufficient_role');
      await t.http().post(ws(owner, '/invitations')).set(...bearer(s.accessToken)).send({ email: 'z@example.com', role: 'viewer' }).expect(403);
      await t.http().patch(ws(owner, `/members/${viewer.userId}`)).set(...bearer(s.accessToken)).send({ role: 'marketer' }).expect(403);
      await t.http().get(ws(owner, '/api-keys')).set(...bearer(s.accessToken)).expect(403);
      await t.http().post(ws(owner, '/api-keys')).set(...bearer(s.accessToken)).send({ name: 'k', kind: 'secret', role: 'viewer' }).expect(403);
    }
    // Admin manages non-owners but cannot grant or touch owner.
    await t.http().patch(ws(owner, `/members/${viewer.userId}`)).set(...bearer(admin.accessToken)).send({ role: 'marketer' }).expect(200);
    expectProblem(
      (await t.http().patch(ws(owner, `/members/${viewer.userId}`)).set(...bearer(admin.accessToken)).send({ role: 'owner' }).expect(403)).body,
      403,
      'role_not_allowed',
    );
    await t.http().patch(ws(owner, `/members/${owner.userId}`)).set(...bearer(admin.accessToken)).send({ role: 'viewer' }).expect(403);
    await t.http().delete(ws(owner, `/members/${owner.userId}`)).set(...bearer(admin.accessToken)).expect(403);
    await t.http().post(ws(owner, '/invitations')).set(...bearer(admin.accessToken)).send({ email: 'o@example.com', role: 'owner' }).expect(403);
    await t.http().post(ws(owner, '/api-keys')).set(...bearer(admin.accessToken)).send({ name: 'k', kind: 'secret', role: 'viewer' }).expect(201);
    // Unknown member id in this workspace: 404.
    await t.http().patch(ws(owner, `/members/${randomUUID()}`)).set(...bearer(owner.accessToken)).send({ role: 'viewer' }).expect(404);
    await t.http().patch(ws(owner, '/members/not-a-uuid')).set(...bearer(owner.accessToken)).send({ role: 'viewer' }).expect(400);
  });

  it('the last owner can be neither demoted nor removed, nor leave', async () => {
    const owner = await newWorkspace(t);
    expectProblem(
      (await t.http().patch(ws(owner, `/members/${owner.userId}`)).set(...bearer(owner.accessToken)).send({ role: 'admin' }).expect(409)).body,
      409,
      'last_owner',
    );
    expectProblem((await t.http().delete(ws(owner, `/members/${owner.userId}`)).set(...bearer(owner.accessToken)).expect(409)).body, 409, 'last_owner');
    // With a second owner, the first may leave.
    const second = await addMember(t, owner, 'owner');
    await t.http().delete(ws(owner, `/members/${owner.userId}`)).set(...bearer(owner.accessToken)).expect(204);
    await t.http().get(ws(owner)).set(...bearer(owner.accessToken)).expect(404);
    await t.http().patch(ws(owner, `/members/${second.userId}`)).set(...bearer(second.accessToken)).send({ role: 'viewer' }).expect(409);
  });

  it('any member may leave', async () => {
    const owner = await newWorkspace(t);
    const viewer = await addMember(t, owner, 'viewer');
    await t.http().delete(ws(owner, `/members/${viewer.userId}`)).set(...bearer(viewer.accessToken)).expect(204);
    await t.http().get(ws(owner)).set(...bearer(viewer.accessToken)).expect(404);
  });
});

describe('API keys', () => {
  it('shows the secret once, stores a hash, lists prefixes', async () => {
    const owner = await newWorkspace(t);
    const created = await t.http().post(ws(owner, '/api-keys')).set(...bearer(owner.accessToken)).send({ name: 'Server', kind: 'secret', role: 'marketer' }).expect(201);
    expect(created.body.key).toMatch(/^sk_[\w-]{40,}$/);
    expect(created.body.key.startsWith(created.body.prefix)).toBe(true);
    const [row] = await t.sql<{ token_hash: string }>('SELECT token_hash FROM api_keys WHERE id = $1', [created.body.id]);
    expect(row.token_hash).not.toContain(created.body.key);
    const list = await t.http().get(ws(owner, '/api-keys')).set(...bearer(owner.accessToken)).expect(200);
    expect(list.body.data).toEqual([expect.objectContaining({ id: created.body.id, prefix: created.body.prefix, role: 'marketer' })]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
  });

  it('validates kind and role together', async () => {
    const owner = await newWorkspace(t);
    const noRole = await t.http().post(ws(owner, '/api-keys')).set(...bearer(owner.accessToken)).send({ name: 'k', kind: 'secret' }).expect(400);
    expect(noRole.body.errors).toEqual([expect.objectContaining({ field: 'role' })]);
    await t.http().post(ws(owner, '/api-keys')).set(...bearer(owner.accessToken)).send({ name: 'k', kind: 'publishable', role: 'admin' }).expect(400);
    await t.http().post(ws(owner, '/api-keys')).set(...bearer(owner.accessToken)).send({ name: 'k', kind: 'secret', role: 'owner' }).expect(400);
  });

  it('a secret key acts with its role, records its last use, and dies at once when revoked', async () => {
    const owner = await newWorkspace(t);
    const viewerKey = await createKey(t, owner, 'secret', 'viewer');
    await t.http().get(ws(owner)).set(...bearer(viewerKey.key)).expect(200);
    await t.http().get(ws(owner, '/members')).set(...bearer(viewerKey.key)).expect(200);
    await t.http().patch(ws(owner)).set(...bearer(viewerKey.key)).send({ name: 'x' }).expect(403);
    const adminKey = await createKey(t, owner, 'secret', 'admin');
    await t.http().patch(ws(owner)).set(...bearer(adminKey.key)).send({ name: 'By key' }).expect(200);
    // Keys do not manage keys or members.
    expectProblem((await t.http().get(ws(owner, '/api-keys')).set(...bearer(adminKey.key)).expect(403)).body, 403, 'user_session_required');
    // Nor act as a user.
    await t.http().get('/v1/me').set(...bearer(adminKey.key)).expect(403);

    await new Promise((r) => setTimeout(r, 50));
    const [used] = await t.sql<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_keys WHERE id = $1', [viewerKey.id]);
    expect(used.last_used_at).toBeInstanceOf(Date);

    await t.http().delete(ws(owner, `/api-keys/${viewerKey.id}`)).set(...bearer(owner.accessToken)).expect(204);
    expectProblem((await t.http().get(ws(owner)).set(...bearer(viewerKey.key)).expect(401)).body, 401, 'unauthenticated');
    await t.http().delete(ws(owner, `/api-keys/${viewerKey.id}`)).set(...bearer(owner.accessToken)).expect(404);
  });

  it('a publishable key cannot call admin routes', async () => {
    const owner = await newWorkspace(t);
    const pk = await createKey(t, owner, 'publishable');
    expect(pk.key).toMatch(/^pk_/);
    expectProblem((await t.http().get(ws(owner)).set(...bearer(pk.key)).expect(403)).body, 403, 'publishable_key_not_allowed');
  });

  it('an unknown key is 401', async () => {
    const owner = await newWorkspace(t);
    await t.http().get(ws(owner)).set('authorization', 'Bearer sk_unknown').expect(401);
  });
});

describe('tenant isolation', () => {
  it("B's JWT and B's secret key get 404 on every route of A's workspace", async () => {
    const a = await newWorkspace(t, 'a');
    const aViewer = await addMember(t, a, 'viewer');
    const aKey = await createKey(t, a, 'secret', 'viewer');
    const aInvite = await t.http().post(ws(a, '/invitations')).set(...bearer(a.accessToken)).send({ email: 'x@example.com', role: 'viewer' }).expect(201);
    const b = await newWorkspace(t, 'b');
    const bKey = await createKey(t, b, 'secret', 'admin');

    const routes: [string, string, object?][] = [
      ['get', ws(a)],
      ['patch', ws(a), { name: 'pwned' }],
      ['get', ws(a, '/members')],
      ['patch', ws(a, `/members/${aViewer.userId}`), { role: 'admin' }],
      ['delete', ws(a, `/members/${aViewer.userId}`)],
      ['get', ws(a, '/invitations')],
      ['post', ws(a, '/invitations'), { email: 'y@example.com', role: 'viewer' }],
      ['delete', ws(a, `/invitations/${aInvite.body.id}`)],
      ['get', ws(a, '/api-keys')],
      ['post', ws(a, '/api-keys'), { name: 'k', kind: 'secret', role: 'viewer' }],
      ['delete', ws(a, `/api-keys/${aKey.id}`)],
    ];
    for (const credential of [b.accessToken, bKey.key]) {
      for (const [method, path, body] of routes) {
        const req = (t.http() as unknown as Record<string, (p: string) => ReturnType<ReturnType<TestApp['http']>['get']>>)[method](path).set(...bearer(credential));
        const res = await (body ? req.send(body) : req);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
        expectProblem(res.body, 404);
      }
    }
    // B's own ids used inside A's path are 404 too, and nothing of A changed.
    await t.http().get(ws(a)).set(...bearer(a.accessToken)).expect(200).expect((r) => expect(r.body.name).not.toBe('pwned'));
    await t.http().get(ws(a)).set(...bearer(aKey.key)).expect(200);
    const members = await t.http().get(ws(a, '/members')).set(...bearer(a.accessToken)).expect(200);
    expect(members.body.data).toHaveLength(2);
    // A non-existent workspace id and a malformed one look the same as a foreign one.
    await t.http().get(`/v1/workspaces/${randomUUID()}`).set(...bearer(b.accessToken)).expect(404);
    await t.http().get('/v1/workspaces/not-a-uuid').set(...bearer(b.accessToken)).expect(404);
  });
});
