import { Body, Controller, Delete, Get, HttpCode, Patch, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_MEMBER, EDITORS, Roles } from '../common/access.decorators.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentWorkspace } from '../common/current.decorators.js';
import { UuidParam } from '../common/uuid-param.js';
import { ConsentList, ContactListQuery, ContactPage, ContactResponse, Timeline, TimelineQuery, UpdateContactDto } from './contacts.dto.js';
import { ContactsService } from './contacts.service.js';

@ApiTags('contacts')
@Controller('v1/workspaces/:workspaceId/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'List and filter contacts, newest first' })
  @ApiOkResponse({ type: ContactPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @Query() q: ContactListQuery): Promise<ContactPage> {
    return this.contacts.list(ws, q);
  }

  @Get(':contactId')
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: ContactResponse })
  get(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('contactId') id: string): Promise<ContactResponse> {
    return this.contacts.get(ws, id);
  }

  @Patch(':contactId')
  @Roles(EDITORS)
  @ApiOperation({ summary: 'Change names, attributes (merged; null removes) and tags' })
  @ApiOkResponse({ type: ContactResponse })
  update(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('contactId') id: string, @Body() dto: UpdateContactDto): Promise<ContactResponse> {
    return this.contacts.update(ws, id, dto);
  }

  @Delete(':contactId')
  @HttpCode(204)
  @Roles(EDITORS)
  @ApiOperation({ summary: 'Erase (GDPR): personal data removed; a hash of the address is kept so imports do not bring it back' })
  @ApiNoContentResponse()
  erase(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('contactId') id: string): Promise<void> {
    return this.contacts.erase(ws, id);
  }

  @Get(':contactId/consents')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'The consent ledger of the contact, oldest first' })
  @ApiOkResponse({ type: ConsentList })
  consents(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('contactId') id: string): Promise<ConsentList> {
    return this.contacts.consents(ws, id);
  }

  @Get(':contactId/timeline')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'Submissions, consents, events and messages, newest first' })
  @ApiOkResponse({ type: Timeline })
  timeline(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('contactId') id: string, @Query() q: TimelineQuery): Promise<Timeline> {
    return this.contacts.timeline(ws, id, q.before, q.limit);
  }
}
