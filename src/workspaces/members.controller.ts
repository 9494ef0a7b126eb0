import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_MEMBER, MANAGERS, Roles } from '../common/access.decorators.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentUserId, CurrentWorkspace } from '../common/current.decorators.js';
import { PageQueryDto } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';
import { MembersService } from './members.service.js';
import {
  ChangeRoleDto,
  CreatedInvitationResponse,
  InvitationPage,
  InviteMemberDto,
  MemberPage,
  MemberResponse,
} from './workspaces.dto.js';

@ApiTags('members')
@Controller('v1/workspaces/:workspaceId')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get('members')
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: MemberPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @Query() page: PageQueryDto): Promise<MemberPage> {
    return this.members.list(ws, page.limit, page.cursor);
  }

  @Patch('members/:userId')
  @Roles(MANAGERS, { usersOnly: true })
  @ApiOperation({ summary: 'Change a member\'s role (owners grant owner; the last owner cannot be demoted)' })
  @ApiOkResponse({ type: MemberResponse })
  changeRole(
    @CurrentWorkspace() ws: WorkspaceContext,
    @UuidParam('userId') userId: string,
    @Body() dto: ChangeRoleDto,
  ): Promise<MemberResponse> {
    return this.members.changeRole(ws, userId, dto.role);
  }

  @Delete('members/:userId')
  @HttpCode(204)
  @Roles(ANY_MEMBER, { usersOnly: true })
  @ApiOperation({ summary: 'Remove a member, or leave (your own id); the last owner cannot leave' })
  @ApiNoContentResponse()
  remove(
    @CurrentWorkspace() ws: WorkspaceContext,
    @CurrentUserId() actor: string,
    @UuidParam('userId') userId: string,
  ): Promise<void> {
    return this.members.remove(ws, actor, userId);
  }

  @Get('invitations')
  @Roles(MANAGERS, { usersOnly: true })
  @ApiOperation({ summary: 'Pending invitations' })
  @ApiOkResponse({ type: InvitationPage })
  listInvitations(@CurrentWorkspace() ws: WorkspaceContext, @Query() page: PageQueryDto): Promise<InvitationPage> {
    return this.members.listInvitations(ws, page.limit, page.cursor);
  }

  @Post('invitations')
  @Roles(MANAGERS, { usersOnly: true })
  @ApiOperation({ summary: 'Invite someone by email; the token is shown once' })
  @ApiCreatedResponse({ type: CreatedInvitationResponse })
  invite(
    @CurrentWorkspace() ws: WorkspaceContext,
    @CurrentUserId() actor: string,
    @Body() dto: InviteMemberDto,
  ): Promise<CreatedInvitationResponse> {
    return this.members.invite(ws, actor, dto.email, dto.role);
  }

  @Delete('invitations/:invitationId')
  @HttpCode(204)
  @Roles(MANAGERS, { usersOnly: true })
  @ApiNoContentResponse()
  revokeInvitation(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('invitationId') id: string): Promise<void> {
    return this.members.revokeInvitation(ws, id);
  }
}
