import { randomUUID } from 'node:crypto';
import type { WorkspaceRole } from '../../src/common/auth-context.js';
import type { TestApp } from './test-app.js';

export interface Session {
  userId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  // The workspace the signup created (the user owns it).
  workspaceId: string;
}

export const uniqueEmail = (label = 'user'): string => `${label}-${randomUUID().slice(0, 8)}@example.com`;

export const bearer = (token: string): [string, string] => ['authorization', `Bearer ${token}`];

/** A fresh user with a fresh workspace they own: tests never share tenants. */
export async function newWorkspace(t: TestApp, label = 'owner'): Promise<Session> {
  const email = uniqueEmail(label);
  const password = 'correct horse battery';
  const res = await t.http().post('/v1/auth/signup').send({ email, password, workspaceName: `${label} workspace` }).expect(201);
  return {
    userId: res.body.user.id,
    email,
    password,
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    workspaceId: res.body.workspace.id,
  };
}

/** A new person who joins `owner`'s workspace with `role`, through the real invite and accept. */
export async function addMember(t: TestApp, owner: Session, role: WorkspaceRole, label: string = role): Promise<Session> {
  const person = await newWorkspace(t, label);
  const invite = await t
    .http()
    .post(`/v1/workspaces/${owner.workspaceId}/invitations`)
    .set(...bearer(owner.accessToken))
    .send({ email: person.email, role })
    .expect(201);
  await t.http().post('/v1/invitations/accept').set(...bearer(person.accessToken)).send({ token: invite.body.token }).expect(200);
  return { ...person, workspaceId: owner.workspaceId };
}

export async function createKey(
  t: TestApp,
  owner: Session,
  kind: 'secret' | 'publishable' = 'secret',
  role?: 'admin' | 'marketer' | 'viewer',
): Promise<{ id: string; key: string }> {
  const res = await t
    .http()
    .post(`/v1/workspaces/${owner.workspaceId}/api-keys`)
    .set(...bearer(owner.accessToken))
    .send({ name: `${kind} key`, kind, ...(kind === 'secret' ? { role: role ?? 'admin' } : {}) })
    .expect(201);
  return { id: res.body.id, key: res.body.key };
}

export function expectProblem(body: Record<string, unknown>, status: number, code?: string): void {
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  if (code) expect(body.code).toBe(code);
  expect(JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
}
