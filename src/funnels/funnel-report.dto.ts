import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional, Matches } from 'class-validator';
import { IsIanaTimeZone } from '../common/time-zone.js';
import { CHANNELS, type Channel } from '../tracking/attribution.js';

export const GROUP_BY = ['channel', 'day'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const REPORT_DESCRIPTION = [
  'Per active stage, over [from, to):',
  '- entered: contacts whose first entry into the stage falls in the window (a contact counts once per stage, ever: windows add up);',
  '- currentlyIn: contacts in the stage now who entered it (this stay) in the window;',
  '- stepConversionPct: entered ÷ entered of the previous stage; overallConversionPct: entered ÷ entered of the first stage (null when dividing by zero);',
  '- medianSecondsFromPrevious: median time from entering the previous stage to entering this one, over the contacts who came from there.',
  'Skipped stages: when the funnel\'s skippedStagesCount is true, a contact who jumps ahead also enters the stages in between at the same moment, ',
  'so they count as entered there and the step after them takes zero seconds: everyone counted in a stage has entered the ones before it. When it is false, skipped stages are ',
  'not entered: a later stage can have more entries than an earlier one and step conversion can exceed 100 %.',
  'groupBy=channel breaks each stage down by the contact\'s first-touch channel as known when it entered the stage ("unknown" when none); groupBy=day ',
  'by the calendar day of the entry in `tz`. Each entry falls in exactly one group, so groups add up to the totals.',
].join('\n');

export class FunnelReportQuery {
  @ApiPropertyOptional({ description: 'Start of the window (ISO 8601, inclusive); default 30 days before `to`' })
  @IsOptional()
  @IsDateString()
  from?: string;

  @ApiPropertyOptional({ description: 'End of the window (ISO 8601, exclusive); default now' })
  @IsOptional()
  @IsDateString()
  to?: string;

  @ApiPropertyOptional({ enum: CHANNELS, description: 'Only contacts whose first touch came through this channel' })
  @IsOptional()
  @IsIn(CHANNELS)
  channel?: Channel;

  @ApiPropertyOptional({ enum: GROUP_BY })
  @IsOptional()
  @IsIn(GROUP_BY)
  groupBy?: GroupBy;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC', description: 'IANA time zone of the day buckets' })
  @IsOptional()
  @Matches(/^.{1,64}$/)
  @IsIanaTimeZone()
  tz?: string;
}

export class FunnelReportStage {
  @ApiProperty({ format: 'uuid' }) stageId: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() position: number;
  @ApiProperty() entered: number;
  @ApiProperty() currentlyIn: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Percent of the previous stage\'s entries, 2 decimals; null for the first stage' })
  stepConversionPct: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Percent of the first stage\'s entries, 2 decimals' })
  overallConversionPct: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Median seconds since entering the previous stage' })
  medianSecondsFromPrevious: number | null;
}

export class FunnelReportGroup {
  @ApiProperty({ description: 'A channel, or a day (YYYY-MM-DD in tz)', example: 'instagram' }) key: string;
  @ApiProperty({ type: [FunnelReportStage] }) stages: FunnelReportStage[];
}

export class FunnelReport {
  @ApiProperty({ format: 'uuid' }) funnelId: string;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty() tz: string;
  @ApiProperty({ type: String, nullable: true, enum: CHANNELS }) channel: Channel | null;
  @ApiProperty({ type: String, nullable: true, enum: GROUP_BY }) groupBy: GroupBy | null;
  @ApiProperty({ description: 'The funnel\'s current setting; entries recorded earlier keep the setting of their time' }) skippedStagesCount: boolean;
  @ApiProperty({
    description:
      'Share of the contacts whose timed entries the medians are taken over: 1 (exact) while the window holds at most REPORT_MEDIAN_EXACT_LIMIT ' +
      'timed entries; above that, a deterministic sample of whole contacts of about that size (e.g. 0.125). Counts are always exact.',
  })
  medianSampleShare: number;
  @ApiProperty({ type: [FunnelReportStage], description: 'Totals over the window' }) stages: FunnelReportStage[];
  @ApiProperty({ type: [FunnelReportGroup], description: 'Present with groupBy: groups with at least one entry, channels by entries, days ascending' })
  groups: FunnelReportGroup[];
}
