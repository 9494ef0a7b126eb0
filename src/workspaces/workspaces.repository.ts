import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { WorkspaceRole } from '../common/auth-context.js';
import type { Keyset } from '../common/pagination.js';
import { MembershipEntity, WorkspaceEntity } from './workspace.entities.js';

export interface MyWorkspaceRow {
  id: string;
  name: string;
  role: WorkspaceRole;
  createdAt: Date;
}

export interface MemberRow {
  id: string;
  email: string;
  name: string | null;
  role: WorkspaceRole;
  createdAt: Date;
}

@Injectable()
export class WorkspacesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async create(em: EntityManager, name: string, ownerId: string): Promise<WorkspaceEntity> {
    const workspace = await em.getRepository(WorkspaceEntity).save(em.create(WorkspaceEntity, { name }));
    await em.insert(MembershipEntity, { workspaceId: workspace.id, userId: ownerId, role: 'owner' });
    return workspace;
  }

  async findById(workspaceId: string): Promise<WorkspaceEntity | null> {
    const rows = await this.ds.query<WorkspaceEntity[]>(
      `SELECT id, name, created_at AS "createdAt", updated_at AS "updatedAt" FROM workspaces WHERE id = $1`,
      [workspaceId],
    );
    return rows[0] ?? null;
  }

  async rename(workspaceId: string, name: string): Promise<WorkspaceEntity | null> {
    // For UPDATE, TypeORM answers [rows, affected].
    const [rows] = await this.ds.query<[WorkspaceEntity[], number]>(
      `UPDATE workspaces SET name = $2, updated_at = now() WHERE id = $1
       RETURNING id, name, created_at AS "createdAt", updated_at AS "updatedAt"`,
      [workspaceId, name],
    );
    return rows[0] ?? null;
  }

  /** The caller's role there, or null when not a member. The access guard's per-request query. */
  async roleOf(workspaceId: string, userId: string): Promise<WorkspaceRole | null> {
    const rows = await this.ds.query<{ role: WorkspaceRole }[]>(
      'SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2',
      [workspaceId, userId],
    );
    return rows[0]?.role ?? null;
  }

  /** Workspaces a user belongs to, oldest membership first, keyset-paged. */
  listForUser(userId: string, limit: number, after: Keyset | null): Promise<MyWorkspaceRow[]> {
    return this.ds.query<MyWorkspaceRow[]>(
      `SELECT w.id, w.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.user_id = $1 AND ($2::timestamptz IS NULL OR (m.created_at, w.id) > ($2::timestamptz, $3::uuid))
        ORDER BY m.created_at, w.id
        LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
  }

  listMembers(workspaceId: string, limit: number, after: Keyset | null): Promise<MemberRow[]> {
    return this.ds.query<MemberRow[]>(
      `SELECT u.id, u.email, u.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = $1 AND ($2::timestamptz IS NULL OR (m.created_at, u.id) > ($2::timestamptz, $3::uuid))
        ORDER BY m.created_at, u.id
        LIMIT $4`,
      [workspaceId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
  }

  /** Serialises membership changes of one workspace (the last-owner rule must hold under concurrency). */
  async lockWorkspace(em: EntityManager, workspaceId: string): Promise<void> {
    await em.query('SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE', [workspaceId]);
  }

  async findMember(em: EntityManager, workspaceId: string, userId: string): Promise<MemberRow | null> {
    const rows = await em.query<MemberRow[]>(
      `SELECT u.id, u.email, u.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = $1 AND m.user_id = $2`,
      [workspaceId, userId],
    );
    return rows[0] ?? null;
  }

  async countOwners(em: EntityManager, workspaceId: string): Promise<number> {
    const [row] = await em.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM memberships WHERE workspace_id = $1 AND role = 'owner'`,
      [workspaceId],
    );
    return row.n;
  }

  async setRole(em: EntityManager, workspaceId: string, userId: string, role: WorkspaceRole): Promise<void> {
    await em.query('UPDATE memberships SET role = $3, updated_at = now() WHERE workspace_id = $1 AND user_id = $2', [
      workspaceId,
      userId,
      role,
    ]);
  }

  async removeMember(em: EntityManager, workspaceId: string, userId: string): Promise<void> {
    await em.query('DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2', [workspaceId, userId]);
  }

  /** Adds a membership; false when the user already is a member. */
  async addMember(em: EntityManager, workspaceId: string, userId: string, role: WorkspaceRole): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING user_id`,
      [workspaceId, userId, role],
    );
    return rows.length > 0;
  }

  async isMemberByEmail(em: EntityManager, workspaceId: string, email: string): Promise<boolean> {
    const rows = await em.query<unknown[]>(
      `SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 AND u.email = $2`,
      [workspaceId, email],
    );
    return rows.length > 0;
  }
}
