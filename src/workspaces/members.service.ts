import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { WorkspaceContext, WorkspaceRole } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { generateToken, hashToken } from '../common/secret-token.js';
import { AppConfig } from '../config/app-config.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { JobsService } from '../jobs/jobs.service.js';
import { UsersRepository } from '../users/users.repository.js';
import { InvitationsRepository } from './invitations.repository.js';
import { WorkspaceErrorCode, WorkspaceException } from './workspace.exception.js';
import {
  toInvitationResponse,
  toMemberResponse,
  toWorkspaceResponse,
  type CreatedInvitationResponse,
  type InvitationResponse,
  type MemberResponse,
  type WorkspaceResponse,
} from './workspaces.dto.js';
import { WorkspacesRepository } from './workspaces.repository.js';

/** Owners may assign any role; admins any but owner; others none. */
export function canAssign(actor: WorkspaceRole, role: WorkspaceRole): boolean {
  return actor === 'owner' || (actor === 'admin' && role !== 'owner');
}

@Injectable()
export class MembersService {
  private readonly logger = new Logger('Members');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly workspaces: WorkspacesRepository,
    private readonly invitations: InvitationsRepository,
    private readonly users: UsersRepository,
    private readonly jobs: JobsService,
  ) {}

  async list(ws: WorkspaceContext, limit: number, cursor?: string): Promise<Page<MemberResponse>> {
    const rows = await this.workspaces.listMembers(ws.id, limit + 1, decodeCursor(cursor));
    return toPage(rows, limit, toMemberResponse);
  }

  async changeRole(ws: WorkspaceContext, targetUserId: string, role: WorkspaceRole): Promise<MemberResponse> {
    return this.ds.transaction(async (em) => {
      await this.workspaces.lockWorkspace(em, ws.id);
      const member = await this.workspaces.findMember(em, ws.id, targetUserId);
      if (!member) throw WorkspaceException.notFound('Member');
      if (!canAssign(ws.role, member.role) || !canAssign(ws.role, role)) throw roleNotAllowed();
      if (member.role === 'owner' && role !== 'owner' && (await this.workspaces.countOwners(em, ws.id)) === 1) {
        throw lastOwner('demoted');
      }
      await this.workspaces.setRole(em, ws.id, targetUserId, role);
      return toMemberResponse({ ...member, role });
    });
  }

  /** Removes a member; any member may remove themselves (leave), managers may remove others. */
  async remove(ws: WorkspaceContext, actorUserId: string, targetUserId: string): Promise<void> {
    await this.ds.transaction(async (em) => {
      await this.workspaces.lockWorkspace(em, ws.id);
      const member = await this.workspaces.findMember(em, ws.id, targetUserId);
      if (!member) throw WorkspaceException.notFound('Member');
      if (targetUserId !== actorUserId && !canAssign(ws.role, member.role)) throw roleNotAllowed();
      if (member.role === 'owner' && (await this.workspaces.countOwners(em, ws.id)) === 1) {
        throw lastOwner(targetUserId === actorUserId ? 'leave' : 'removed');
      }
      await this.workspaces.removeMember(em, ws.id, targetUserId);
    });
  }

  async invite(ws: WorkspaceContext, actorUserId: string, email: string, role: WorkspaceRole): Promise<CreatedInvitationResponse> {
    if (!canAssign(ws.role, role)) throw roleNotAllowed();
    const token = generateToken('inv_');
    const invitation = await this.ds.transaction(async (em) => {
      if (await this.workspaces.isMemberByEmail(em, ws.id, email)) {
        throw new WorkspaceException(HttpStatus.CONFLICT, WorkspaceErrorCode.AlreadyMember, `${email} is already a member.`);
      }
      const created = await this.invitations.insert(em, {
        workspaceId: ws.id,
        email,
        role,
        tokenHash: hashToken(token),
        invitedBy: actorUserId,
        expiresAt: new Date(Date.now() + this.config.INVITATION_TTL_HOURS * 3600_000),
      });
      await this.jobs.send('workspaces-invitation-created', { invitationId: created.id }, { manager: em });
      return created;
    });
    return { ...toInvitationResponse(invitation), token, acceptUrl: this.acceptUrl(token) };
  }

  async listInvitations(ws: WorkspaceContext, limit: number, cursor?: string): Promise<Page<InvitationResponse>> {
    const rows = await this.invitations.listPending(ws.id, limit + 1, decodeCursor(cursor));
    return toPage(rows, limit, toInvitationResponse);
  }

  async revokeInvitation(ws: WorkspaceContext, invitationId: string): Promise<void> {
    if (!(await this.invitations.revoke(ws.id, invitationId))) throw WorkspaceException.notFound('Invitation');
  }

  /** The signed-in user joins with an invitation addressed to their email. */
  async accept(userId: string, token: string): Promise<WorkspaceResponse> {
    const user = await this.users.findProfile(userId);
    if (!user) throw WorkspaceException.notFound('User');
    return this.ds.transaction(async (em) => {
      const invitation = await this.invitations.findByTokenForUpdate(em, hashToken(token));
      if (!invitation || invitation.revokedAt || invitation.acceptedAt || invitation.expiresAt <= new Date()) {
        throw new WorkspaceException(
          HttpStatus.NOT_FOUND,
          WorkspaceErrorCode.InvitationInvalid,
          'This invitation does not exist, has expired, was revoked or was already used.',
        );
      }
      if (invitation.email !== user.email) {
        throw new WorkspaceException(
          HttpStatus.FORBIDDEN,
          WorkspaceErrorCode.InvitationEmailMismatch,
          'This invitation was sent to another email address. Sign in with that address to accept it.',
        );
      }
      await this.workspaces.addMember(em, invitation.workspaceId, userId, invitation.role);
      await this.invitations.markAccepted(em, invitation.id);
      const member = await this.workspaces.findMember(em, invitation.workspaceId, userId);
      const workspace = await this.workspaces.findById(invitation.workspaceId);
      if (!workspace || !member) throw WorkspaceException.notFound('Workspace');
      return toWorkspaceResponse(workspace, member.role);
    });
  }

  /**
   * Delivers a new invitation. Until an email transport exists, the delivery is the log line with
   * the link (the same thing the `log` email transport will do); re-reading first makes retries harmless.
   */
  @OnJob('workspaces-invitation-created')
  async deliverInvitation({ invitationId }: { invitationId: string }): Promise<void> {
    const invitation = await this.invitations.findForDelivery(invitationId);
    if (!invitation || invitation.acceptedAt || invitation.revokedAt || invitation.expiresAt <= new Date()) return;
    this.logger.log({ invitationId, workspaceId: invitation.workspaceId }, 'invitation ready to deliver');
  }

  private acceptUrl(token: string): string {
    const base = this.config.ADMIN_UI_URL ?? this.config.PUBLIC_URL;
    return `${base.replace(/\/$/, '')}/invitations/accept?token=${encodeURIComponent(token)}`;
  }
}

function roleNotAllowed(): WorkspaceException {
  return new WorkspaceException(
    HttpStatus.FORBIDDEN,
    WorkspaceErrorCode.RoleNotAllowed,
    'Your role cannot grant this role or manage this member.',
  );
}

function lastOwner(action: 'demoted' | 'removed' | 'leave'): WorkspaceException {
  const detail =
    action === 'leave'
      ? 'You are the last owner: make someone else owner before leaving.'
      : `The last owner cannot be ${action}: make someone else owner first.`;
  return new WorkspaceException(HttpStatus.CONFLICT, WorkspaceErrorCode.LastOwner, detail);
}
