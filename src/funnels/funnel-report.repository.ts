import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { GroupBy } from './funnel-report.dto.js';
import type { CountRanges } from './funnel-report.js';

export interface ReportKey {
  // With groupBy: the channel ('' when unknown) or the day (YYYY-MM-DD in the time zone).
  isTotal: boolean;
  channel: string | null;
  day: string | null;
  stageId: string;
}

export interface CountRow extends ReportKey {
  entered: number;
  currentlyIn: number;
}

export interface MedianRow extends ReportKey {
  medianSecondsFromPrevious: number;
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
   * Per stage, totals and (with groupBy) per channel or local day: first entries, and contacts still
   * in the stage who entered it in the window. Whole UTC days come from the daily rollup, the rest
   * from the 15-minute slots (see countRanges).
   */
  counts(workspaceId: string, funnelId: string, w: ReportWindow, r: CountRanges): Promise<CountRow[]> {
    return this.ds.query<CountRow[]>(
      `SELECT GROUPING(channel, day) <> 0 AS "isTotal", channel, to_char(day, 'YYYY-MM-DD') AS day, stage_id AS "stageId",
              sum(entered)::int AS entered, sum(still_in)::int AS "currentlyIn"
         FROM (SELECT stage_id, entered, still_in, CASE WHEN $4::text = 'channel' THEN channel END AS channel, NULL::date AS day
                 FROM funnel_stage_counts_daily
                WHERE funnel_id = $2 AND workspace_id = $1 AND day >= $6::date AND day < $7::date
                  AND ($3::text IS NULL OR channel = $3)
               UNION ALL
               SELECT stage_id, entered, still_in,
                      CASE WHEN $4::text = 'channel' THEN channel END,
                      CASE WHEN $4::text = 'day' THEN (slot AT TIME ZONE $5::text)::date END
                 FROM funnel_stage_counts
                WHERE funnel_id = $2 AND workspace_id = $1
                  AND ((slot >= $8 AND slot < $9) OR (slot >= $10 AND slot < $11))
                  AND ($3::text IS NULL OR channel = $3)) c
        GROUP BY GROUPING SETS ((stage_id), (stage_id, channel, day))`,
      [
        workspaceId,
        funnelId,
        w.channel,
        w.groupBy,
        w.tz,
        r.days?.from ?? '1970-01-01',
        r.days?.to ?? '1970-01-01',
        r.slots[0].from.toISOString(),
        r.slots[0].to.toISOString(),
        r.slots[1].from.toISOString(),
        r.slots[1].to.toISOString(),
      ],
    );
  }

  /**
   * Median time from the previous stage, per stage, totals and per group: over the timed first entries
   * in the window of the contacts in `samples` (0-63; all of them for exact medians). An index range
   * scan per sample, reading only the index.
   */
  medians(workspaceId: string, funnelId: string, w: ReportWindow, samples: number): Promise<MedianRow[]> {
    return this.ds.query<MedianRow[]>(
      `SELECT GROUPING(channel, day) <> 0 AS "isTotal", channel, to_char(day, 'YYYY-MM-DD') AS day, stage_id AS "stageId",
              percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_from_previous) AS "medianSecondsFromPrevious"
         FROM (SELECT stage_id, seconds_from_previous,
                      CASE WHEN $6::text = 'channel' THEN coalesce(channel, '') END AS channel,
                      CASE WHEN $6::text = 'day' THEN (entered_at AT TIME ZONE $7::text)::date END AS day
                 FROM funnel_stage_history
                WHERE funnel_id = $2 AND sample = ANY($8::smallint[]) AND first_entry AND seconds_from_previous IS NOT NULL
                  AND entered_at >= $3 AND entered_at < $4 AND workspace_id = $1
                  AND ($5::text IS NULL OR channel = $5)) h
        GROUP BY GROUPING SETS ((stage_id), (stage_id, channel, day))`,
      [workspaceId, funnelId, w.from.toISOString(), w.to.toISOString(), w.channel, w.groupBy, w.tz, Array.from({ length: samples }, (_, i) => i)],
    );
  }
}
