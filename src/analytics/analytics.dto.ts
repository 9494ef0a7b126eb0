import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { IsIanaTimeZone } from '../common/time-zone.js';
import type { CampaignRow, ChannelDayRow, ChannelRow, FormRow, WatermarkRow } from './analytics.repository.js';
import { DATE_PATTERN, datesOf, percent, type ReportRange } from './report-range.js';

export class AnalyticsQuery {
  @ApiPropertyOptional({ example: '2026-03-01', description: 'First day of the report (in tz), included. Default: 29 days before `to`' })
  @IsOptional()
  @Matches(DATE_PATTERN, { message: 'from must be a date (YYYY-MM-DD)' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-03-30', description: 'Last day of the report (in tz), included. Default: today in tz' })
  @IsOptional()
  @Matches(DATE_PATTERN, { message: 'to must be a date (YYYY-MM-DD)' })
  to?: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC', description: 'IANA time zone the days are counted in' })
  @IsOptional()
  @IsIanaTimeZone()
  tz?: string;
}

export class ReportRangeResponse {
  @ApiProperty({ example: '2026-03-01' }) from: string;
  @ApiProperty({ example: '2026-03-30' }) to: string;
  @ApiProperty({ example: 'Europe/Berlin' }) tz: string;
}

export class Freshness {
  @ApiProperty({ type: String, nullable: true, description: 'Everything recorded before this instant is counted (null: rollups not built yet)' })
  asOf: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Seconds between asOf and this answer' })
  lagSeconds: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'When the rollups were last refreshed' })
  refreshedAt: string | null;

  @ApiProperty({ example: 60, description: 'The rollups are refreshed every minute; an answer finding them older refreshes them first' })
  maxLagSeconds: number;
}

export class ChannelCount {
  @ApiProperty({ example: 'instagram', description: 'First-touch channel; unknown: no touch recorded (imports, API)' }) channel: string;
  @ApiProperty() newContacts: number;
}

export class DayStats {
  @ApiProperty({ example: '2026-03-14' }) date: string;
  @ApiProperty({ description: 'Contacts created that day' }) newContacts: number;
  @ApiProperty({ description: 'Of those, subscribed on email or SMS' }) confirmed: number;
  @ApiProperty({ description: 'Of those, waiting for a double opt-in confirmation' }) pending: number;
  @ApiProperty() formViews: number;
  @ApiProperty() submissions: number;
  @ApiProperty({ type: [ChannelCount], description: 'New contacts by first-touch channel, most first' }) byChannel: ChannelCount[];
}

export class Totals {
  @ApiProperty() newContacts: number;
  @ApiProperty() confirmed: number;
  @ApiProperty() pending: number;
  @ApiProperty() formViews: number;
  @ApiProperty() submissions: number;
  @ApiProperty({ type: Number, nullable: true, description: 'confirmed / newContacts, in percent' }) confirmationRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'submissions / formViews, in percent (null without views)' }) conversionRate: number | null;
}

export class FormStats {
  @ApiProperty({ format: 'uuid' }) formId: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'form_view events from the embed and hosted pages' }) formViews: number;
  @ApiProperty() submissions: number;
  @ApiProperty({ type: Number, nullable: true, description: 'submissions / formViews, in percent (null without views)' }) conversionRate: number | null;
}

export class CampaignStats {
  @ApiProperty({ example: 'spring_sale', description: 'utm_campaign of the first touch (contacts) or of the visit (views, submissions)' }) campaign: string;
  @ApiProperty() newContacts: number;
  @ApiProperty() confirmed: number;
  @ApiProperty() pending: number;
  @ApiProperty() formViews: number;
  @ApiProperty() submissions: number;
  @ApiProperty({ type: Number, nullable: true }) conversionRate: number | null;
}

export class ChannelStats {
  @ApiProperty({ example: 'instagram' }) channel: string;
  @ApiProperty() newContacts: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Share of all new contacts, in percent' }) share: number | null;
  @ApiProperty() confirmed: number;
  @ApiProperty() pending: number;
  @ApiProperty({ type: Number, nullable: true }) confirmationRate: number | null;
  @ApiProperty() formViews: number;
  @ApiProperty() submissions: number;
  @ApiProperty({ type: Number, nullable: true }) conversionRate: number | null;
}

export class OverviewResponse {
  @ApiProperty({ type: ReportRangeResponse }) range: ReportRangeResponse;
  @ApiProperty({ type: Totals }) totals: Totals;
  @ApiProperty({ type: [DayStats], description: 'Every day of the range, in order, zeros included' }) days: DayStats[];
  @ApiProperty({ type: [FormStats], description: 'Form views → submissions per form, most submissions first' }) forms: FormStats[];
  @ApiProperty({ type: [CampaignStats], description: 'The utm_campaigns that brought the most new contacts' }) topCampaigns: CampaignStats[];
  @ApiProperty({ type: Freshness }) freshness: Freshness;
}

export class SourcesResponse {
  @ApiProperty({ type: ReportRangeResponse }) range: ReportRangeResponse;
  @ApiProperty({ type: [ChannelStats], description: 'Per first-touch channel, most new contacts first' }) channels: ChannelStats[];
  @ApiProperty({ type: [CampaignStats], description: 'Per utm_campaign, most new contacts first' }) campaigns: CampaignStats[];
  @ApiProperty({ type: Freshness }) freshness: Freshness;
}

export function toFreshness(w: WatermarkRow, maxLagSeconds: number): Freshness {
  return {
    asOf: w.asOf?.toISOString() ?? null,
    lagSeconds: w.lagSeconds === null ? null : Math.max(0, Math.round(w.lagSeconds)),
    refreshedAt: w.refreshedAt?.toISOString() ?? null,
    maxLagSeconds,
  };
}

function toCampaignStats(c: CampaignRow): CampaignStats {
  return { ...c, conversionRate: percent(c.submissions, c.formViews) };
}

export function toOverviewResponse(range: ReportRange, channelDays: ChannelDayRow[], forms: FormRow[], campaigns: CampaignRow[], freshness: Freshness): OverviewResponse {
  const byDate = new Map<string, DayStats>();
  for (const date of datesOf(range)) byDate.set(date, { date, newContacts: 0, confirmed: 0, pending: 0, formViews: 0, submissions: 0, byChannel: [] });
  const totals = { newContacts: 0, confirmed: 0, pending: 0, formViews: 0, submissions: 0 };
  for (const row of channelDays) {
    const day = byDate.get(row.day);
    if (!day) continue;
    for (const key of ['newContacts', 'confirmed', 'pending', 'formViews', 'submissions'] as const) {
      day[key] += row[key];
      totals[key] += row[key];
    }
    if (row.newContacts > 0) day.byChannel.push({ channel: row.channel, newContacts: row.newContacts });
  }
  const days = [...byDate.values()];
  for (const day of days) day.byChannel.sort((a, b) => b.newContacts - a.newContacts || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
  return {
    range: { from: range.from, to: range.to, tz: range.tz },
    totals: {
      ...totals,
      confirmationRate: percent(totals.confirmed, totals.newContacts),
      conversionRate: percent(totals.submissions, totals.formViews),
    },
    days,
    forms: forms.map((f) => ({ ...f, conversionRate: percent(f.submissions, f.formViews) })),
    topCampaigns: campaigns.map(toCampaignStats),
    freshness,
  };
}

export function toSourcesResponse(range: ReportRange, channels: ChannelRow[], campaigns: CampaignRow[], freshness: Freshness): SourcesResponse {
  const allNew = channels.reduce((sum, c) => sum + c.newContacts, 0);
  return {
    range: { from: range.from, to: range.to, tz: range.tz },
    channels: channels.map((c) => ({
      channel: c.channel,
      newContacts: c.newContacts,
      share: percent(c.newContacts, allNew),
      confirmed: c.confirmed,
      pending: c.pending,
      confirmationRate: percent(c.confirmed, c.newContacts),
      formViews: c.formViews,
      submissions: c.submissions,
      conversionRate: percent(c.submissions, c.formViews),
    })),
    campaigns: campaigns.map(toCampaignStats),
    freshness,
  };
}
