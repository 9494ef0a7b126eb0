import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { PG_ERROR, pgErrorCode } from '../database/pg-errors.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { ValidationException } from '../common/problem.js';
import type { FunnelReport, FunnelReportGroup, FunnelReportQuery } from './funnel-report.dto.js';
import { FunnelReportRepository } from './funnel-report.repository.js';
import { countRanges, MEDIAN_SAMPLES, medianSamples, reportStages, type StageCounts } from './funnel-report.js';
import { FunnelException } from './funnels.exception.js';
import { FunnelsRepository } from './funnels.repository.js';

const DAY_MS = 86_400_000;
const SLOT_MS = 15 * 60_000;
const DEFAULT_DAYS = 30;
// Day buckets: two years at most.
const MAX_DAY_BUCKETS = 731;

@Injectable()
export class FunnelReportService {
  constructor(
    private readonly config: AppConfig,
    private readonly funnels: FunnelsRepository,
    private readonly reports: FunnelReportRepository,
  ) {}

  async report(ws: WorkspaceContext, funnelId: string, q: FunnelReportQuery): Promise<FunnelReport> {
    const funnel = await this.funnels.findById(ws.id, funnelId);
    if (!funnel) throw FunnelException.notFound();
    // Counts are kept per 15-minute slot: the window widens to slot boundaries (echoed in the answer).
    const to = new Date(Math.ceil((q.to ? Date.parse(q.to) : Date.now()) / SLOT_MS) * SLOT_MS);
    const from = new Date(Math.floor((q.from ? Date.parse(q.from) : to.getTime() - DEFAULT_DAYS * DAY_MS) / SLOT_MS) * SLOT_MS);
    if (from >= to) throw new ValidationException([{ field: 'from', message: 'from must be before to' }]);
    if (q.groupBy === 'day' && to.getTime() - from.getTime() > MAX_DAY_BUCKETS * DAY_MS) {
      throw new ValidationException([{ field: 'from', message: `groupBy=day covers at most ${MAX_DAY_BUCKETS} days` }]);
    }
    const tz = q.tz ?? 'UTC';
    const window = { from, to, channel: q.channel ?? null, groupBy: q.groupBy ?? null, tz };
    const unknownZone = (err: unknown) => {
      // A zone the runtime knows but this PostgreSQL's tzdata does not.
      if (pgErrorCode(err) === PG_ERROR.invalidParameterValue) throw new ValidationException([{ field: 'tz', message: 'unknown time zone' }]);
      throw err;
    };
    const counts = await this.reports.counts(ws.id, funnelId, window, countRanges(from, to, window.groupBy === 'day')).catch(unknownZone);
    // Entries of every stage but the first can be timed: exact medians up to the limit, a sample above.
    const firstStageId = funnel.stages.find((s) => s.archivedAt === null)?.id;
    const timed = counts.filter((r) => r.isTotal && r.stageId !== firstStageId).reduce((n, r) => n + r.entered, 0);
    const samples = medianSamples(timed, this.config.REPORT_MEDIAN_EXACT_LIMIT);
    const medians = timed === 0 ? [] : await this.reports.medians(ws.id, funnelId, window, samples).catch(unknownZone);
    // Counts and medians come as separate rows: merged per group and stage.
    const totals = new Map<string, StageCounts>();
    const groups = new Map<string, Map<string, StageCounts>>();
    const rows = [
      ...counts.map((r) => ({ ...r, medianSecondsFromPrevious: null })),
      ...medians.map((r) => ({ ...r, entered: 0, currentlyIn: 0 })),
    ];
    for (const r of rows) {
      let target = totals;
      if (!r.isTotal) {
        if (!window.groupBy) continue;
        const key = r.day ?? (r.channel || 'unknown');
        target = groups.get(key) ?? new Map<string, StageCounts>();
        groups.set(key, target);
      }
      const c = target.get(r.stageId) ?? { entered: 0, currentlyIn: 0, medianSecondsFromPrevious: null };
      c.entered += r.entered;
      c.currentlyIn += r.currentlyIn;
      c.medianSecondsFromPrevious ??= r.medianSecondsFromPrevious;
      target.set(r.stageId, c);
    }
    const stages = funnel.stages.filter((s) => s.archivedAt === null);
    const entries = (g: FunnelReportGroup) => g.stages.reduce((n, s) => n + s.entered, 0);
    // A group with nothing left in the active stages (entries of archived ones, counts back to zero) is left out.
    const grouped: FunnelReportGroup[] = [...groups]
      .map(([key, c]) => ({ key, stages: reportStages(stages, c) }))
      .filter((g) => g.stages.some((s) => s.entered > 0 || s.currentlyIn > 0));
    grouped.sort(window.groupBy === 'day' ? (a, b) => (a.key < b.key ? -1 : 1) : (a, b) => entries(b) - entries(a) || (a.key < b.key ? -1 : 1));
    return {
      funnelId,
      from: from.toISOString(),
      to: to.toISOString(),
      tz,
      channel: window.channel,
      groupBy: window.groupBy,
      skippedStagesCount: funnel.skippedStagesCount,
      medianSampleShare: samples / MEDIAN_SAMPLES,
      stages: reportStages(stages, totals),
      groups: grouped,
    };
  }
}
