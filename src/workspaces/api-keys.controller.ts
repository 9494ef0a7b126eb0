import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MANAGERS, Roles } from '../common/access.decorators.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentUserId, CurrentWorkspace } from '../common/current.decorators.js';
import { PageQueryDto } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyPage, CreateApiKeyDto, CreatedApiKeyResponse } from './workspaces.dto.js';

@ApiTags('api-keys')
@Controller('v1/workspaces/:workspaceId/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @Roles(MANAGERS, { usersOnly: true })
  @ApiOkResponse({ type: ApiKeyPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @Query() page: PageQueryDto): Promise<ApiKeyPage> {
    return this.keys.list(ws, page.limit, page.cursor);
  }

  @Post()
  @Roles(MANAGERS, { usersOnly: true })
  @ApiOperation({ summary: 'Create a key; the full key is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  create(
    @CurrentWorkspace() ws: WorkspaceContext,
    @CurrentUserId() actor: string,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponse> {
    return this.keys.create(ws, actor, dto);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @Roles(MANAGERS, { usersOnly: true })
  @ApiOperation({ summary: 'Revoke a key, effective on the next request' })
  @ApiNoContentResponse()
  revoke(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('keyId') keyId: string): Promise<void> {
    return this.keys.revoke(ws, keyId);
  }
}
