import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { WorkspaceContext } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { WorkspaceException } from './workspace.exception.js';
import { toWorkspaceResponse, type WorkspaceResponse } from './workspaces.dto.js';
import { WorkspacesRepository } from './workspaces.repository.js';

@Injectable()
export class WorkspacesService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly workspaces: WorkspacesRepository,
  ) {}

  /** Creates a workspace owned by `userId`; inside `em` when part of a larger transaction (signup). */
  async create(userId: string, name: string, em?: EntityManager): Promise<WorkspaceResponse> {
    const run = (m: EntityManager) => this.workspaces.create(m, name, userId);
    const workspace = em ? await run(em) : await this.ds.transaction(run);
    return toWorkspaceResponse(workspace, 'owner');
  }

  async listMine(userId: string, limit: number, cursor?: string): Promise<Page<WorkspaceResponse>> {
    const rows = await this.workspaces.listForUser(userId, limit + 1, decodeCursor(cursor));
    return toPage(rows, limit, (r) => toWorkspaceResponse(r, r.role));
  }

  async get(ws: WorkspaceContext): Promise<WorkspaceResponse> {
    const workspace = await this.workspaces.findById(ws.id);
    if (!workspace) throw WorkspaceException.notFound('Workspace');
    return toWorkspaceResponse(workspace, ws.role);
  }

  async rename(ws: WorkspaceContext, name: string): Promise<WorkspaceResponse> {
    const workspace = await this.workspaces.rename(ws.id, name);
    if (!workspace) throw WorkspaceException.notFound('Workspace');
    return toWorkspaceResponse(workspace, ws.role);
  }
}
