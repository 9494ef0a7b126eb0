import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { GroupBy } from './funnel-report.dto.js';

export interface ReportRow {
  isTotal: boolean;
  // With groupBy: the channel ('' when unknown) or the day (YYYY-MM-DD in the time zone).
  channel: string | null;
  day: string | null;
  stageId: string;
  entered: number;
  currentlyIn: number;
  medianSecondsFromPrevious: number | null;
}

export interface ReportWindow {
  // On 15-minute boundaries: the counts are kept per 15-minute slot.
  from: Date;
  to: Date;
  channel: string | null;
  groupBy: GroupBy | null;
  tz: string;
}

@Injectable()
export class FunnelReportRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Per stage, totals and (with groupBy) per channel or local day, in one statement of two parts: the
   * counts from the 15-minute rollup (first entries; contacts still in the stage since a time in the
   * window), and the medians from the history's timed first entries (an index-only range scan).
   */
  counts(workspaceId: string, funnelId: string, w: ReportWindow): Promise<ReportRow[]> {
    return this.ds.query<ReportRow[]>(
      `SELECT GROUPING(channel, day) <> 0 AS "isTotal", channel, to_char(day, 'YYYY-MM-DD') AS day, stage_id AS "stageId",
              sum(entered)::int AS entered, sum(still_in)::int AS "currentlyIn", NULL::float8 AS "medianSecondsFromPrevious"
         FROM (SELECT stage_id, entered, still_in,
                      CASE WHEN $6::text = 'channel' THEN channel END AS channel,
                      CASE WHEN $6::text = 'day' THEN (slot AT TIME ZONE $7::text)::date END AS day
                 FROM funnel_stage_counts
                WHERE funnel_id = $2 AND workspace_id = $1 AND slot >= $3 AND slot < $4
                  AND ($5::text IS NULL OR channel = $5)) c
        GROUP BY GROUPING SETS ((stage_id), (stage_id, channel, day))
       UNION ALL
       SELECT GROUPING(channel, day) <> 0, channel, to_char(day, 'YYYY-MM-DD'), stage_id,
              0, 0, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_from_previous)
         FROM (SELECT stage_id, seconds_from_previous,
                      CASE WHEN $6::text = 'channel' THEN coalesce(channel, '') END AS channel,
                      CASE WHEN $6::text = 'day' THEN (entered_at AT TIME ZONE $7::text)::date END AS day
                 FROM funnel_stage_history
                WHERE funnel_id = $2 AND first_entry AND seconds_from_previous IS NOT NULL
                  AND entered_at >= $3 AND entered_at < $4 AND workspace_id = $1
                  AND ($5::text IS NULL OR channel = $5)) h
        GROUP BY GROUPING SETS ((stage_id), (stage_id, channel, day))`,
      [workspaceId, funnelId, w.from.toISOString(), w.to.toISOString(), w.channel, w.groupBy, w.tz],
    );
  }
}
