import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_MEMBER, Authenticated, MANAGERS, Roles } from '../common/access.decorators.js';
import { Idempotent } from '../common/idempotency.interceptor.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentUserId, CurrentWorkspace } from '../common/current.decorators.js';
import { PageQueryDto } from '../common/pagination.js';
import { MembersService } from './members.service.js';
import {
  AcceptInvitationDto,
  CreateWorkspaceDto,
  RenameWorkspaceDto,
  WorkspacePage,
  WorkspaceResponse,
} from './workspaces.dto.js';
import { WorkspacesService } from './workspaces.service.js';

@ApiTags('workspaces')
@Controller('v1')
export class WorkspacesController {
  constructor(
    private readonly workspaces: WorkspacesService,
    private readonly members: MembersService,
  ) {}

  @Post('workspaces')
  @Authenticated()
  @Idempotent()
  @ApiOperation({ summary: 'Create a workspace; the caller becomes its owner' })
  @ApiCreatedResponse({ type: WorkspaceResponse })
  create(@CurrentUserId() userId: string, @Body() dto: CreateWorkspaceDto): Promise<WorkspaceResponse> {
    return this.workspaces.create(userId, dto.name);
  }

  @Get('workspaces')
  @Authenticated()
  @ApiOperation({ summary: 'Workspaces the caller belongs to' })
  @ApiOkResponse({ type: WorkspacePage })
  listMine(@CurrentUserId() userId: string, @Query() page: PageQueryDto): Promise<WorkspacePage> {
    return this.workspaces.listMine(userId, page.limit, page.cursor);
  }

  @Get('workspaces/:workspaceId')
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: WorkspaceResponse })
  get(@CurrentWorkspace() ws: WorkspaceContext): Promise<WorkspaceResponse> {
    return this.workspaces.get(ws);
  }

  @Patch('workspaces/:workspaceId')
  @Roles(MANAGERS)
  @ApiOperation({ summary: 'Rename the workspace' })
  @ApiOkResponse({ type: WorkspaceResponse })
  rename(@CurrentWorkspace() ws: WorkspaceContext, @Body() dto: RenameWorkspaceDto): Promise<WorkspaceResponse> {
    return this.workspaces.rename(ws, dto.name);
  }

  @Post('invitations/accept')
  @HttpCode(200)
  @Authenticated()
  @Idempotent()
  @ApiOperation({ summary: 'Join a workspace with an invitation token sent to the caller\'s email' })
  @ApiOkResponse({ type: WorkspaceResponse })
  accept(@CurrentUserId() userId: string, @Body() dto: AcceptInvitationDto): Promise<WorkspaceResponse> {
    return this.members.accept(userId, dto.token);
  }
}
