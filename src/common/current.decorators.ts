import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { WorkspaceContext } from './auth-context.js';

/** The workspace the access guard resolved. Throws when no guard ran: that is a wiring bug, not a 4xx. */
export const CurrentWorkspace = createParamDecorator((_: unknown, ctx: ExecutionContext): WorkspaceContext => {
  const workspace = ctx.switchToHttp().getRequest<FastifyRequest>().auth?.workspace;
  if (!workspace) throw new Error('@CurrentWorkspace() used on a route without a resolved workspace (@Roles missing?)');
  return workspace;
});

/** The signed-in user's id. Throws when no user was resolved. */
export const CurrentUserId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().auth?.principal;
  if (principal?.kind !== 'user') throw new Error('@CurrentUserId() used on a route without a signed-in user');
  return principal.userId;
});

/** The id of the user behind the call, or null when a secret key made it. */
export const ActorUserId = createParamDecorator((_: unknown, ctx: ExecutionContext): string | null => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().auth?.principal;
  if (!principal) throw new Error('@ActorUserId() used on a route without a resolved caller');
  return principal.kind === 'user' ? principal.userId : null;
});

/** The workspace of the API key behind a @KeyAuthenticated() call, and whether it is a secret key. */
export const KeyWorkspace = createParamDecorator((_: unknown, ctx: ExecutionContext): { workspaceId: string; secret: boolean } => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().auth?.principal;
  if (principal?.kind !== 'key') throw new Error('@KeyWorkspace() used on a route without an API key (@KeyAuthenticated missing?)');
  return { workspaceId: principal.workspaceId, secret: principal.keyKind === 'secret' };
});

/** Who is behind the call, for audit trails: a user, or a secret key. */
export interface Actor {
  userId: string | null;
  apiKeyId: string | null;
}

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().auth?.principal;
  if (!principal) throw new Error('@CurrentActor() used on a route without a resolved caller');
  return principal.kind === 'user' ? { userId: principal.userId, apiKeyId: null } : { userId: null, apiKeyId: principal.keyId };
});
