import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_MEMBER, EDITORS, Roles } from '../common/access.decorators.js';
import { Idempotent } from '../common/idempotency.interceptor.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentActor, CurrentWorkspace, type Actor } from '../common/current.decorators.js';
import { UuidParam } from '../common/uuid-param.js';
import { FunnelContactsService } from './funnel-contacts.service.js';
import { ContactFunnelList, FunnelContactPage, FunnelContactResponse, FunnelContactsQuery, MoveContactDto } from './funnels.dto.js';

@ApiTags('funnels')
@Controller('v1/workspaces/:workspaceId')
export class FunnelContactsController {
  constructor(private readonly contacts: FunnelContactsService) {}

  @Get('funnels/:funnelId/contacts')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'Contacts in the funnel with their current stage, latest entry first' })
  @ApiOkResponse({ type: FunnelContactPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('funnelId') funnelId: string, @Query() q: FunnelContactsQuery): Promise<FunnelContactPage> {
    return this.contacts.list(ws, funnelId, q);
  }

  @Post('funnels/:funnelId/contacts/:contactId/move')
  @HttpCode(200)
  @Roles(EDITORS)
  @Idempotent()
  @ApiOperation({
    summary: 'Move a contact to a stage by hand (any direction), recorded with who and why',
    description: 'Moving forward in a funnel that counts skipped stages enters the stages in between too. Moving to the current stage changes nothing.',
  })
  @ApiOkResponse({ type: FunnelContactResponse })
  move(
    @CurrentWorkspace() ws: WorkspaceContext,
    @CurrentActor() actor: Actor,
    @UuidParam('funnelId') funnelId: string,
    @UuidParam('contactId') contactId: string,
    @Body() dto: MoveContactDto,
  ): Promise<FunnelContactResponse> {
    return this.contacts.move(ws, funnelId, contactId, dto, actor);
  }

  @Get('contacts/:contactId/funnels')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'The funnels a contact is in: current stage and every stage entry' })
  @ApiOkResponse({ type: ContactFunnelList })
  forContact(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('contactId') contactId: string): Promise<ContactFunnelList> {
    return this.contacts.forContact(ws, contactId);
  }
}
