import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { WorkspaceRole } from './auth-context.js';

export const ACCESS_KEY = 'leadnest:access';

export type AccessRule =
  | { kind: 'public'; publishableKey?: boolean }
  | { kind: 'user' }
  | { kind: 'workspace'; roles: readonly WorkspaceRole[]; usersOnly: boolean };

export const ANY_MEMBER: readonly WorkspaceRole[] = ['owner', 'admin', 'marketer', 'viewer'];
export const EDITORS: readonly WorkspaceRole[] = ['owner', 'admin', 'marketer'];
export const MANAGERS: readonly WorkspaceRole[] = ['owner', 'admin'];

/** Anyone may call it (landing pages, embeds, provider callbacks). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies AccessRule);

/**
 * Public endpoints called from browsers with a workspace's publishable key (pk_…, or a secret key from
 * a server): the key names the workspace, nothing else is granted.
 */
export const KeyAuthenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ACCESS_KEY, { kind: 'public', publishableKey: true } satisfies AccessRule), ApiSecurity('publishableKey'));

/** A signed-in user (JWT), not tied to one workspace: /me, workspace list and creation, invitations. */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ACCESS_KEY, { kind: 'user' } satisfies AccessRule), ApiBearerAuth('jwt'));

/**
 * A member of the route's `:workspaceId` with one of these roles, or that workspace's secret key with one.
 * `usersOnly`: people only (managing members and keys is not something a key may do).
 */
export const Roles = (roles: readonly WorkspaceRole[], options: { usersOnly?: boolean } = {}): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, { kind: 'workspace', roles, usersOnly: options.usersOnly ?? false } satisfies AccessRule),
    ApiBearerAuth('jwt'),
    ...(options.usersOnly ? [] : [ApiSecurity('secretKey')]),
  );
