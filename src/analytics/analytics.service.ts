import { Injectable, Logger } from '@nestjs/common';
import type { WorkspaceContext } from '../common/auth-context.js';
import { ValidationException } from '../common/problem.js';
import {
  toFreshness,
  toOverviewResponse,
  toSourcesResponse,
  type AnalyticsQuery,
  type Freshness,
  type OverviewResponse,
  type SourcesResponse,
} from './analytics.dto.js';
import { AnalyticsRepository } from './analytics.repository.js';
import { resolveRange, type ReportRange } from './report-range.js';
import { RollupsService } from './rollups.service.js';

export const MAX_LAG_SECONDS = 60;
// A read that finds the rollups stale refreshes them, but never waits longer than this for it; after a
// refresh that could not finish, reads leave it to the worker for a while (a backlog takes its time).
const INLINE_REFRESH_TIMEOUT_MS = 5_000;
const INLINE_REFRESH_BACKOFF_MS = 60_000;
const TOP_CAMPAIGNS = 10;
const SOURCES_CAMPAIGNS = 50;

@Injectable()
export class AnalyticsService {
  private readonly logger = new Logger('Analytics');
  private zones: Promise<Set<string>> | null = null;
  private inlineRefreshAfter = 0;

  constructor(
    private readonly reports: AnalyticsRepository,
    private readonly rollups: RollupsService,
  ) {}

  async overview(ws: WorkspaceContext, q: AnalyticsQuery): Promise<OverviewResponse> {
    const range = await this.range(q);
    const freshness = await this.freshness();
    const [days, forms, campaigns] = await Promise.all([
      this.reports.channelDays(ws.id, range),
      this.reports.forms(ws.id, range),
      this.reports.campaigns(ws.id, range, TOP_CAMPAIGNS),
    ]);
    return toOverviewResponse(range, days, forms, campaigns, freshness);
  }

  async sources(ws: WorkspaceContext, q: AnalyticsQuery): Promise<SourcesResponse> {
    const range = await this.range(q);
    const freshness = await this.freshness();
    const [channels, campaigns] = await Promise.all([this.reports.channels(ws.id, range), this.reports.campaigns(ws.id, range, SOURCES_CAMPAIGNS)]);
    return toSourcesResponse(range, channels, campaigns, freshness);
  }

  private async range(q: AnalyticsQuery): Promise<ReportRange> {
    const range = resolveRange(q, new Date());
    // The DTO checked the zone against the runtime's list; the SQL runs on PostgreSQL's.
    this.zones ??= this.reports.timeZoneNames().catch((err: unknown) => {
      this.zones = null;
      throw err;
    });
    if (!(await this.zones).has(range.tz.toLowerCase())) {
      throw new ValidationException([{ field: 'tz', message: `tz ${range.tz} is not a time zone the database knows` }]);
    }
    return range;
  }

  /**
   * The worker refreshes the rollups every minute. When it is late (or not running), the read does it
   * first, so an answer is at most a minute behind; when that cannot finish quickly the answer says how
   * old it is.
   */
  private async freshness(): Promise<Freshness> {
    let mark = await this.reports.watermark();
    if ((mark.lagSeconds === null || mark.lagSeconds > MAX_LAG_SECONDS) && Date.now() >= this.inlineRefreshAfter) {
      try {
        await this.rollups.refresh({ wait: true, timeoutMs: INLINE_REFRESH_TIMEOUT_MS });
        mark = await this.reports.watermark();
      } catch (err) {
        this.inlineRefreshAfter = Date.now() + INLINE_REFRESH_BACKOFF_MS;
        this.logger.warn(`rollups are ${mark.lagSeconds ?? '∞'} s old and could not be refreshed in time: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return toFreshness(mark, MAX_LAG_SECONDS);
  }
}
