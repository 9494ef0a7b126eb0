import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { WORKSPACE_ROLES, type WorkspaceRole } from '../common/auth-context.js';
import type { ApiKeyEntity, InvitationEntity, WorkspaceEntity } from './workspace.entities.js';
import type { MemberRow, MyWorkspaceRow } from './workspaces.repository.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const normaliseEmail = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export const KEY_ROLES = ['admin', 'marketer', 'viewer'] as const;

// ---- requests

export class CreateWorkspaceDto {
  @ApiProperty({ maxLength: 100, example: 'Acme Bakery' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;
}

export class RenameWorkspaceDto extends CreateWorkspaceDto {}

export class InviteMemberDto {
  @ApiProperty({ example: 'sam@example.com' })
  @Transform(normaliseEmail)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ enum: WORKSPACE_ROLES })
  @IsIn(WORKSPACE_ROLES)
  role: WorkspaceRole;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: WORKSPACE_ROLES })
  @IsIn(WORKSPACE_ROLES)
  role: WorkspaceRole;
}

export class AcceptInvitationDto {
  @ApiProperty({ description: 'The token from the invitation link' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ maxLength: 100, example: 'Website backend' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ enum: ['secret', 'publishable'], description: 'secret (sk_…) for servers; publishable (pk_…) for browsers, public endpoints only' })
  @IsIn(['secret', 'publishable'])
  kind: 'secret' | 'publishable';

  @ApiPropertyOptional({ enum: KEY_ROLES, description: 'Required for a secret key; not allowed for a publishable one' })
  @IsOptional()
  @IsIn(KEY_ROLES)
  role?: (typeof KEY_ROLES)[number];
}

// ---- responses

export class WorkspaceResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: WORKSPACE_ROLES, description: 'The caller\'s role' }) role: WorkspaceRole;
  @ApiProperty() createdAt: string;
}

export class WorkspacePage {
  @ApiProperty({ type: [WorkspaceResponse] }) data: WorkspaceResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class MemberResponse {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() email: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ enum: WORKSPACE_ROLES }) role: WorkspaceRole;
  @ApiProperty() joinedAt: string;
}

export class MemberPage {
  @ApiProperty({ type: [MemberResponse] }) data: MemberResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class InvitationResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: WORKSPACE_ROLES }) role: WorkspaceRole;
  @ApiProperty() expiresAt: string;
  @ApiProperty() createdAt: string;
}

export class CreatedInvitationResponse extends InvitationResponse {
  @ApiProperty({ description: 'Shown once: the invitee accepts with it (POST /v1/invitations/accept)' })
  token: string;
  @ApiProperty({ description: 'Link for the invitee, carrying the token' })
  acceptUrl: string;
}

export class InvitationPage {
  @ApiProperty({ type: [InvitationResponse] }) data: InvitationResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['secret', 'publishable'] }) kind: 'secret' | 'publishable';
  @ApiProperty({ enum: KEY_ROLES, nullable: true }) role: WorkspaceRole | null;
  @ApiProperty({ description: 'First characters of the key, to recognise it' }) prefix: string;
  @ApiProperty({ type: String, nullable: true }) lastUsedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) revokedAt: string | null;
  @ApiProperty() createdAt: string;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The full key. Shown once; only its hash is stored.' }) key: string;
}

export class ApiKeyPage {
  @ApiProperty({ type: [ApiKeyResponse] }) data: ApiKeyResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

// ---- mappers: entities never leave a service

export function toWorkspaceResponse(w: WorkspaceEntity | MyWorkspaceRow, role: WorkspaceRole): WorkspaceResponse {
  return { id: w.id, name: w.name, role, createdAt: w.createdAt.toISOString() };
}

export function toMemberResponse(m: MemberRow): MemberResponse {
  return { userId: m.id, email: m.email, name: m.name, role: m.role, joinedAt: m.createdAt.toISOString() };
}

export function toInvitationResponse(i: InvitationEntity): InvitationResponse {
  return { id: i.id, email: i.email, role: i.role, expiresAt: i.expiresAt.toISOString(), createdAt: i.createdAt.toISOString() };
}

export function toApiKeyResponse(k: ApiKeyEntity): ApiKeyResponse {
  return {
    id: k.id,
    name: k.name,
    kind: k.kind,
    role: k.role,
    prefix: k.prefix,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    createdAt: k.createdAt.toISOString(),
  };
}
