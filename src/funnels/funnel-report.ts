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
