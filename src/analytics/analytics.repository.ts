import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ReportRange } from './report-range.js';

export interface ContactCounts {
  newContacts: number;
  confirmed: number;
  pending: number;
}

export interface TrafficCounts {
  formViews: number;
  submissions: number;
}

export interface ChannelDayRow extends ContactCounts, TrafficCounts {
  day: string;
  channel: string;
}

export interface ChannelRow extends ContactCounts, TrafficCounts {
  channel: string;
}

export interface CampaignRow extends ContactCounts, TrafficCounts {
  campaign: string;
}

export interface FormRow extends TrafficCounts {
  formId: string;
  name: string;
}

export interface WatermarkRow {
  // Every row recorded before this instant is counted; null before the first refresh.
  asOf: Date | null;
  refreshedAt: Date | null;
  lagSeconds: number | null;
}

// The report's days, $2 to $3 in zone $4, each as the UTC interval it covers.
const DAYS = `SELECT d::date AS day, d::date::timestamp AT TIME ZONE $4 AS starts, (d::date + 1)::timestamp AT TIME ZONE $4 AS ends
                FROM generate_series($2::date, $3::date, interval '1 day') AS d`;
// The whole report as one interval.
const SPAN = `SELECT NULL::date AS day, $2::date::timestamp AT TIME ZONE $4 AS starts, ($3::date + 1)::timestamp AT TIME ZONE $4 AS ends`;

/**
 * The intervals of `source` as rollup rows to read, coarsest first: the whole UTC days inside from the
 * daily rows, the whole hours around them from the hourly rows, the quarter hours at the ends (zones
 * offset by :30 or :45) from the 15-minute rows. Zones are offset from UTC by multiples of 15 minutes,
 * so every boundary falls on a bucket edge. A local day outside UTC holds no whole UTC day: its day
 * piece is empty and its hours run through (h0 to h1).
 */
const pieces = (source: string) => `
  SELECT e.day, p.grain, p.starts, p.ends FROM (
    SELECT day, starts, ends, h0, h1, CASE WHEN d0 < d1 THEN d0 ELSE h1 END AS d0, CASE WHEN d0 < d1 THEN d1 ELSE h1 END AS d1
      FROM (SELECT day, starts, ends,
                   date_trunc('hour', starts + interval '45 minutes', 'UTC') AS h0, date_trunc('hour', ends, 'UTC') AS h1,
                   date_trunc('day', starts + interval '1425 minutes', 'UTC') AS d0, date_trunc('day', ends, 'UTC') AS d1
              FROM ${source}) edges
  ) e
  CROSS JOIN LATERAL (VALUES (1440, e.d0, e.d1), (60, e.h0, e.d0), (60, e.d1, e.h1), (15, e.starts, LEAST(e.ends, e.h0)), (15, GREATEST(e.starts, e.h1), e.ends)) AS p(grain, starts, ends)
  WHERE p.starts < p.ends`;

/**
 * Sums of `table` per `key` within each piece: one index range scan per piece (LATERAL), whatever
 * the planner guesses of the number of pieces.
 */
const sumsPerPiece = (table: string, key: string, sums: string) => `
  CROSS JOIN LATERAL (
        SELECT ${key}, ${sums}
          FROM ${table}
         WHERE workspace_id = $1 AND grain = piece.grain AND bucket >= piece.starts AND bucket < piece.ends
         GROUP BY ${key}) s`;

const CONTACT_SUMS = `sum(new_contacts)::int8 AS new_contacts, sum(confirmed)::int8 AS confirmed, sum(pending)::int8 AS pending`;
const TRAFFIC_SUMS = `sum(form_views)::int8 AS form_views, sum(submissions)::int8 AS submissions`;
// The pieces' sums added up.
const CONTACT_TOTALS = `sum(s.new_contacts)::int8 AS "newContacts", sum(s.confirmed)::int8 AS confirmed, sum(s.pending)::int8 AS pending`;
const TRAFFIC_TOTALS = `sum(s.form_views)::int8 AS "formViews", sum(s.submissions)::int8 AS submissions`;

type Numeric<T> = { [K in keyof T]: T[K] extends number ? string | number : T[K] };

// int8 arrives as a string: counts are far below 2^53.
function counts<T extends object>(rows: Numeric<T>[], keys: (keyof T)[]): T[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = { ...row };
    for (const key of keys) out[key as string] = Number(row[key]);
    return out as T;
  });
}

const CONTACT_KEYS = ['newContacts', 'confirmed', 'pending'] as const;
const TRAFFIC_KEYS = ['formViews', 'submissions'] as const;

/** The report queries: they read the rollup tables only, never raw events. */
@Injectable()
export class AnalyticsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Per day of the range and first-touch channel: contacts and traffic. Days without any are absent.
   * Each local day becomes its UTC interval once and is read by index range scans: no time-zone
   * arithmetic per row.
   */
  async channelDays(workspaceId: string, r: ReportRange): Promise<ChannelDayRow[]> {
    const rows = await this.ds.query<Numeric<ChannelDayRow>[]>(
      `WITH day AS (${DAYS}), piece AS (${pieces('day')})
       SELECT to_char(piece.day, 'YYYY-MM-DD') AS day, s.channel, ${CONTACT_TOTALS}, ${TRAFFIC_TOTALS}
         FROM piece ${sumsPerPiece('analytics_channel_stats', 'channel', `${CONTACT_SUMS}, ${TRAFFIC_SUMS}`)}
        GROUP BY piece.day, s.channel
        ORDER BY piece.day, s.channel`,
      [workspaceId, r.from, r.to, r.tz],
    );
    return counts<ChannelDayRow>(rows, [...CONTACT_KEYS, ...TRAFFIC_KEYS]);
  }

  /** Per channel over the range, most new contacts first. */
  async channels(workspaceId: string, r: ReportRange): Promise<ChannelRow[]> {
    const rows = await this.ds.query<Numeric<ChannelRow>[]>(
      `WITH span AS (${SPAN}), piece AS (${pieces('span')})
       SELECT s.channel, ${CONTACT_TOTALS}, ${TRAFFIC_TOTALS}
         FROM piece ${sumsPerPiece('analytics_channel_stats', 'channel', `${CONTACT_SUMS}, ${TRAFFIC_SUMS}`)}
        GROUP BY s.channel
        ORDER BY "newContacts" DESC, submissions DESC, s.channel`,
      [workspaceId, r.from, r.to, r.tz],
    );
    return counts<ChannelRow>(rows, [...CONTACT_KEYS, ...TRAFFIC_KEYS]);
  }

  /** Per form over the range: views and submissions, most submissions first. Deleted forms are gone. */
  async forms(workspaceId: string, r: ReportRange): Promise<FormRow[]> {
    const rows = await this.ds.query<Numeric<FormRow>[]>(
      `WITH span AS (${SPAN}), piece AS (${pieces('span')})
       SELECT t.form_id AS "formId", f.name, t."formViews", t.submissions
         FROM (SELECT s.form_id, ${TRAFFIC_TOTALS}
                 FROM piece ${sumsPerPiece('analytics_form_stats', 'form_id', TRAFFIC_SUMS)}
                GROUP BY s.form_id) t
         JOIN forms f ON f.id = t.form_id AND f.workspace_id = $1
        ORDER BY t.submissions DESC, t."formViews" DESC, f.name, t.form_id`,
      [workspaceId, r.from, r.to, r.tz],
    );
    return counts<FormRow>(rows, [...TRAFFIC_KEYS]);
  }

  /** The `limit` utm_campaigns that brought the most new contacts over the range. */
  async campaigns(workspaceId: string, r: ReportRange, limit: number): Promise<CampaignRow[]> {
    const rows = await this.ds.query<Numeric<CampaignRow>[]>(
      `WITH span AS (${SPAN}), piece AS (${pieces('span')})
       SELECT s.campaign, ${CONTACT_TOTALS}, ${TRAFFIC_TOTALS}
         FROM piece ${sumsPerPiece('analytics_campaign_stats', 'campaign', `${CONTACT_SUMS}, ${TRAFFIC_SUMS}`)}
        GROUP BY s.campaign
        ORDER BY "newContacts" DESC, submissions DESC, s.campaign
        LIMIT $5`,
      [workspaceId, r.from, r.to, r.tz, limit],
    );
    return counts<CampaignRow>(rows, [...CONTACT_KEYS, ...TRAFFIC_KEYS]);
  }

  /** How current the rollups are: the oldest of the sources' watermarks. */
  async watermark(): Promise<WatermarkRow> {
    const [row] = await this.ds.query<WatermarkRow[]>(
      `SELECT CASE WHEN isfinite(min(processed_to)) THEN min(processed_to) END AS "asOf",
              max(refreshed_at) AS "refreshedAt",
              CASE WHEN isfinite(min(processed_to)) THEN extract(epoch FROM clock_timestamp() - min(processed_to))::float8 END AS "lagSeconds"
         FROM analytics_watermarks`,
    );
    return row;
  }

  /** The time zone names PostgreSQL knows (lowercased): a report's zone must be one of them. */
  async timeZoneNames(): Promise<Set<string>> {
    const rows = await this.ds.query<{ name: string }[]>(`SELECT lower(name) AS name FROM pg_timezone_names`);
    return new Set(rows.map((r) => r.name));
  }
}
