import { Injectable, Logger } from '@nestjs/common';
import type { Principal, WorkspaceContext } from '../common/auth-context.js';
import { ValidationException } from '../common/problem.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { generateToken, hashToken } from '../common/secret-token.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { WorkspaceException } from './workspace.exception.js';
import { toApiKeyResponse, type ApiKeyResponse, type CreateApiKeyDto, type CreatedApiKeyResponse } from './workspaces.dto.js';

const PREFIX_LENGTH = 11;
// last_used_at is a hint for humans: writing it at most once a minute keeps key reads one query.
const TOUCH_INTERVAL_MS = 60_000;

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('ApiKeys');
  // Last time this process recorded each key's use: concurrent requests do not all write the same row.
  private readonly touched = new Map<string, number>();

  constructor(private readonly keys: ApiKeysRepository) {}

  async create(ws: WorkspaceContext, actorUserId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    if ((dto.kind === 'secret') !== (dto.role !== undefined)) {
      const message = dto.kind === 'secret' ? 'role is required for a secret key' : 'role is not allowed for a publishable key';
      throw new ValidationException([{ field: 'role', message }]);
    }
    const key = generateToken(dto.kind === 'secret' ? 'sk_' : 'pk_');
    const entity = await this.keys.insert({
      workspaceId: ws.id,
      name: dto.name,
      kind: dto.kind,
      role: dto.role ?? null,
      prefix: key.slice(0, PREFIX_LENGTH),
      tokenHash: hashToken(key),
      createdBy: actorUserId,
    });
    return { ...toApiKeyResponse(entity), key };
  }

  async list(ws: WorkspaceContext, limit: number, cursor?: string): Promise<Page<ApiKeyResponse>> {
    const rows = await this.keys.list(ws.id, limit + 1, decodeCursor(cursor));
    return toPage(rows, limit, toApiKeyResponse);
  }

  async revoke(ws: WorkspaceContext, keyId: string): Promise<void> {
    if (!(await this.keys.revoke(ws.id, keyId))) throw WorkspaceException.notFound('API key');
  }

  /** Resolves a presented `sk_…`/`pk_…` key; null when unknown or revoked (revocation is immediate: no cache). */
  async authenticate(token: string): Promise<Principal | null> {
    const key = await this.keys.findActiveByHash(hashToken(token));
    if (!key) return null;
    const now = Date.now();
    const stale = !key.lastUsedAt || now - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS;
    if (stale && now - (this.touched.get(key.id) ?? 0) > TOUCH_INTERVAL_MS) {
      if (this.touched.size > 10_000) this.touched.clear();
      this.touched.set(key.id, now);
      this.keys.touch(key.id).catch((err: unknown) => this.logger.warn({ err }, 'could not record key use'));
    }
    return { kind: 'key', keyId: key.id, keyKind: key.kind, workspaceId: key.workspaceId, role: key.role };
  }
}
