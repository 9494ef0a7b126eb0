import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANY_MEMBER, Roles } from '../common/access.decorators.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentWorkspace } from '../common/current.decorators.js';
import { AnalyticsQuery, OverviewResponse, SourcesResponse } from './analytics.dto.js';
import { AnalyticsService } from './analytics.service.js';

@ApiTags('analytics')
@Controller('v1/workspaces/:workspaceId/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('overview')
  @Roles(ANY_MEMBER)
  @ApiOperation({
    summary: 'New owned contacts per day by channel, confirmed vs pending, form views → submissions per form, top utm_campaigns',
    description: 'Read from rollups at most a minute behind; `freshness` says how current the numbers are.',
  })
  @ApiOkResponse({ type: OverviewResponse })
  overview(@CurrentWorkspace() ws: WorkspaceContext, @Query() q: AnalyticsQuery): Promise<OverviewResponse> {
    return this.analytics.overview(ws, q);
  }

  @Get('sources')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'Contacts, form views and submissions per first-touch channel and per utm_campaign' })
  @ApiOkResponse({ type: SourcesResponse })
  sources(@CurrentWorkspace() ws: WorkspaceContext, @Query() q: AnalyticsQuery): Promise<SourcesResponse> {
    return this.analytics.sources(ws, q);
  }
}
