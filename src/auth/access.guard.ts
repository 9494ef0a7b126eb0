import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ACCESS_KEY, type AccessRule } from '../common/access.decorators.js';
import type { Principal, WorkspaceRole } from '../common/auth-context.js';
import { WorkspacesRepository } from '../workspaces/workspaces.repository.js';
import { AuthErrorCode, AuthException } from './auth.exception.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The one guard: reads the route's declaration (@Public, @Authenticated, @Roles), authenticates the
 * caller through passport (secret/publishable key or JWT), resolves `:workspaceId` and the caller's
 * role there once. Another workspace's id answers 404, never 403, so existence does not leak.
 */
@Injectable()
export class AccessGuard extends AuthGuard(['api-key', 'jwt']) {
  constructor(
    private readonly reflector: Reflector,
    private readonly workspaces: WorkspacesRepository,
  ) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!rule) throw new Error(`${ctx.getClass().name}.${ctx.getHandler().name} declares neither @Roles nor @Public`);
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    req.auth = {};
    if (rule.kind === 'public' && !rule.publishableKey) return true;

    await super.canActivate(ctx);
    const principal = req.user as Principal;
    req.auth.principal = principal;

    if (rule.kind === 'public') {
      if (principal.kind !== 'key') throw AuthException.forbidden(AuthErrorCode.KeyRequired, 'Send a publishable key (pk_…) as "Authorization: Bearer pk_…".');
      return true;
    }

    if (rule.kind === 'user') {
      if (principal.kind !== 'user') throw userSessionRequired();
      return true;
    }

    const workspaceId = (req.params as Record<string, string | undefined>).workspaceId;
    if (!workspaceId || !UUID.test(workspaceId)) throw AuthException.workspaceNotFound();
    const role = await this.roleIn(workspaceId, principal, rule.usersOnly);
    if (!rule.roles.includes(role)) {
      throw AuthException.forbidden(AuthErrorCode.InsufficientRole, `Your role (${role}) cannot do this.`);
    }
    req.auth.workspace = { id: workspaceId, role };
    return true;
  }

  override handleRequest<T>(err: unknown, user: T | false | null): T {
    if (err) throw err;
    if (!user) throw AuthException.unauthenticated();
    return user;
  }

  private async roleIn(workspaceId: string, principal: Principal, usersOnly: boolean): Promise<WorkspaceRole> {
    if (principal.kind === 'user') {
      const role = await this.workspaces.roleOf(workspaceId, principal.userId);
      if (!role) throw AuthException.workspaceNotFound();
      return role;
    }
    if (principal.workspaceId !== workspaceId) throw AuthException.workspaceNotFound();
    if (principal.keyKind === 'publishable' || !principal.role) {
      throw AuthException.forbidden(AuthErrorCode.PublishableKeyNotAllowed, 'Publishable keys (pk_…) can only call public endpoints.');
    }
    if (usersOnly) throw userSessionRequired();
    return principal.role;
  }
}

function userSessionRequired(): AuthException {
  return AuthException.forbidden(AuthErrorCode.UserSessionRequired, 'This needs a signed-in user, not an API key.');
}
