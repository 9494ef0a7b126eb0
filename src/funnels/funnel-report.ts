import type { FunnelReportStage } from './funnel-report.dto.js';

export interface ReportStage {
  id: string;
  key: string;
  name: string;
  position: number;
}

export interface StageCounts {
  entered: number;
  currentlyIn: number;
  medianSecondsFromPrevious: number | null;
}

const percent = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((10_000 * part) / whole) / 100);

/** One row per stage, in order, with conversions; a stage nobody entered reads as zeros. */
export function reportStages(stages: readonly ReportStage[], counts: ReadonlyMap<string, StageCounts>): FunnelReportStage[] {
  const first = counts.get(stages[0]?.id ?? '')?.entered ?? 0;
  let previous: number | null = null;
  return stages.map((s) => {
    const c = counts.get(s.id) ?? { entered: 0, currentlyIn: 0, medianSecondsFromPrevious: null };
    const row: FunnelReportStage = {
      stageId: s.id,
      key: s.key,
      name: s.name,
      position: s.position,
      entered: c.entered,
      currentlyIn: c.currentlyIn,
      stepConversionPct: previous === null ? null : percent(c.entered, previous),
      overallConversionPct: percent(c.entered, first),
      medianSecondsFromPrevious: c.medianSecondsFromPrevious === null ? null : Math.round(c.medianSecondsFromPrevious * 1000) / 1000,
    };
    previous = c.entered;
    return row;
  });
}

const DAY_MS = 86_400_000;
// Medians sample whole contacts: funnel_stage_history.sample is 0-63, from the contact id.
export const MEDIAN_SAMPLES = 64;

export interface CountRanges {
  // Whole UTC days [from, to) read from the daily counts; null when the window holds none.
  days: { from: string; to: string } | null;
  // The rest of the window, from the 15-minute counts: [from, to) pairs (empty ones have from = to).
  slots: [{ from: Date; to: Date }, { from: Date; to: Date }];
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Where a window's counts come from: whole UTC days from the daily rollup, the partial first and last
 * day from the 15-minute slots. Local-day buckets (groupBy=day) need slots throughout: a local day
 * rarely starts at UTC midnight.
 */
export function countRanges(from: Date, to: Date, localDays: boolean): CountRanges {
  const firstWholeDay = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  const lastWholeDay = Math.floor(to.getTime() / DAY_MS) * DAY_MS;
  if (localDays || firstWholeDay >= lastWholeDay) return { days: null, slots: [{ from, to }, { from: to, to }] };
  return {
    days: { from: isoDay(firstWholeDay), to: isoDay(lastWholeDay) },
    slots: [
      { from, to: new Date(firstWholeDay) },
      { from: new Date(lastWholeDay), to },
    ],
  };
}

/**
 * How many of the 64 contact samples the medians read: all while the window's timed entries are at
 * most `exactLimit` (exact medians), else enough for about `exactLimit` entries (at least one).
 */
export function medianSamples(timedEntries: number, exactLimit: number): number {
  if (timedEntries <= exactLimit) return MEDIAN_SAMPLES;
  return Math.max(1, Math.ceil((MEDIAN_SAMPLES * exactLimit) / timedEntries));
}
