import { applyDecorators, Injectable, Logger, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { catchError, from, mergeMap, of, throwError, type Observable } from 'rxjs';
import type { Principal } from './auth-context.js';
import { IdempotencyException, idempotencyKey } from './idempotency.js';
import { IdempotencyRepository, type IdempotencyOwner } from './idempotency.repository.js';

/** A request still holding its key after this long is taken for dead (no request runs for a minute). */
export const IDEMPOTENCY_STALE_SECONDS = 60;
/** How long an answer is kept for retries. */
export const IDEMPOTENCY_RETENTION_SECONDS = 86_400;

/**
 * `Idempotency-Key` on the routes marked `@Idempotent()` (only those: other routes run no interceptor).
 * The first request takes the key (a row, before the handler runs) and keeps its answer after it; a
 * retry with the same key and request gets that answer with `Idempotent-Replayed: true`; the same key
 * with another request is `422 idempotency_key_reused`; a retry while the first still runs is
 * `409 idempotency_key_in_progress` with `Retry-After`. A request that fails gives its key back (it
 * stored nothing), so its retry runs again.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(private readonly requests: IdempotencyRepository) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const key = idempotencyKey(req.headers['idempotency-key']);
    const principal = req.auth?.principal;
    if (key === null || !principal) return next.handle();

    const owner = ownerOf(principal, req.auth?.workspace?.id ?? null);
    const requestHash = createHash('sha256')
      .update(JSON.stringify([req.method, req.url, req.body ?? null]))
      .digest('hex');
    const claim = await this.requests.claim(owner, key, requestHash, IDEMPOTENCY_STALE_SECONDS, IDEMPOTENCY_RETENTION_SECONDS);
    switch (claim.kind) {
      case 'reused':
        throw IdempotencyException.reused();
      case 'running':
        throw IdempotencyException.inProgress(claim.retryAfterSeconds);
      case 'answered':
        void reply.status(claim.status).header('idempotent-replayed', 'true');
        return of(claim.body);
      case 'claimed':
        break;
    }
    const { holder } = claim;
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        try {
          await this.requests.answer(owner.scope, key, holder, reply.statusCode, body);
        } catch (err) {
          // Done but not kept: a retry within the stale window is told to wait, after it runs again.
          this.logger.warn({ err: (err as Error).message, reqId: req.id }, 'could not keep the answer of an idempotent request');
        }
        return body;
      }),
      catchError((err: unknown) =>
        from(this.requests.release(owner.scope, key, holder).catch(() => undefined)).pipe(mergeMap(() => throwError(() => err))),
      ),
    );
  }
}

function ownerOf(principal: Principal, workspaceId: string | null): IdempotencyOwner {
  return principal.kind === 'user'
    ? { scope: `user:${principal.userId}`, userId: principal.userId, apiKeyId: null, workspaceId }
    : { scope: `key:${principal.keyId}`, userId: null, apiKeyId: principal.keyId, workspaceId };
}

/**
 * An admin POST that accepts `Idempotency-Key`: a retry with the same key and the same request gets the
 * first answer (status and body, `Idempotent-Replayed: true`) and does not act again. Kept for a day.
 * Routes whose answer holds a secret (an API key, an invitation token) do not take it: the answer would
 * be kept.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Same key and request within a day: the first answer again, nothing done twice (8-200 of A-Z a-z 0-9 _ . : -)',
    }),
  );
