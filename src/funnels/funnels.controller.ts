import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_MEMBER, EDITORS, Roles } from '../common/access.decorators.js';
import { Idempotent } from '../common/idempotency.interceptor.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentWorkspace } from '../common/current.decorators.js';
import { UuidParam } from '../common/uuid-param.js';
import { FunnelReport, FunnelReportQuery, REPORT_DESCRIPTION } from './funnel-report.dto.js';
import { FunnelReportService } from './funnel-report.service.js';
import { CreateFunnelDto, FunnelListQuery, FunnelPage, FunnelResponse, UpdateFunnelDto } from './funnels.dto.js';
import { FunnelsService } from './funnels.service.js';

@ApiTags('funnels')
@Controller('v1/workspaces/:workspaceId/funnels')
export class FunnelsController {
  constructor(
    private readonly funnels: FunnelsService,
    private readonly reports: FunnelReportService,
  ) {}

  @Post()
  @Roles(EDITORS)
  @Idempotent()
  @ApiOperation({ summary: 'Create a funnel with ordered stages and their entry rules' })
  @ApiCreatedResponse({ type: FunnelResponse })
  create(@CurrentWorkspace() ws: WorkspaceContext, @Body() dto: CreateFunnelDto): Promise<FunnelResponse> {
    return this.funnels.create(ws, dto);
  }

  @Get()
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: FunnelPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @Query() q: FunnelListQuery): Promise<FunnelPage> {
    return this.funnels.list(ws, q.limit, q.cursor, q.status);
  }

  @Get(':funnelId')
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: FunnelResponse })
  get(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('funnelId') id: string): Promise<FunnelResponse> {
    return this.funnels.get(ws, id);
  }

  @Patch(':funnelId')
  @Roles(EDITORS)
  @ApiOperation({ summary: 'Change a funnel; history is never rewritten: removed stages are archived, a returning key revives its stage' })
  @ApiOkResponse({ type: FunnelResponse })
  update(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('funnelId') id: string, @Body() dto: UpdateFunnelDto): Promise<FunnelResponse> {
    return this.funnels.update(ws, id, dto);
  }

  @Delete(':funnelId')
  @HttpCode(204)
  @Roles(EDITORS)
  @ApiOperation({ summary: 'Delete a funnel nobody has entered (409 otherwise: archive it)' })
  @ApiNoContentResponse()
  delete(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('funnelId') id: string): Promise<void> {
    return this.funnels.delete(ws, id);
  }

  @Get(':funnelId/report')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'Conversion report: entries, conversion and time per stage, by first-touch channel or day', description: REPORT_DESCRIPTION })
  @ApiOkResponse({ type: FunnelReport })
  report(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('funnelId') id: string, @Query() q: FunnelReportQuery): Promise<FunnelReport> {
    return this.reports.report(ws, id, q);
  }
}
