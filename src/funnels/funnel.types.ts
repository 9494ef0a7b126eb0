import type { StageRule } from './funnel-rules.js';

export const FUNNEL_STATUSES = ['active', 'paused', 'archived'] as const;
export type FunnelStatus = (typeof FUNNEL_STATUSES)[number];

export interface FunnelRow {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  status: FunnelStatus;
  skippedStagesCount: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface StageRow {
  id: string;
  funnelId: string;
  key: string;
  name: string;
  position: number;
  rules: StageRule[];
  archivedAt: Date | null;
}

export interface FunnelWithStages extends FunnelRow {
  // Active and archived, by position.
  stages: StageRow[];
}

export interface StageInput {
  key: string;
  name: string;
  position: number;
  rules: StageRule[];
}

export type HistorySource = 'rule' | 'skip' | 'manual';
