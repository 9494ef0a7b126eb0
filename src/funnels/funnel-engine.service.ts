import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { retryOnConflict } from '../database/conflict-retry.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { FunnelEngineRepository, type CurrentWrite, type HistoryWrite, type Lane, type MovesWrite } from './funnel-engine.repository.js';
import { FunnelRulesCache } from './funnel-rules.cache.js';
import { matchEvents, pairKey, planMoves, type Move, type RuleSet } from './funnel-rules.js';

export interface EvaluationResult {
  events: number;
  moves: number;
  batches: number;
  // A lane reached maxBatches with events left.
  more: boolean;
}

const BATCH_SIZE = 1000;
// One job drains at most this many batches per lane, then queues a follow-up: other workspaces get their turn.
const JOB_MAX_BATCHES = 50;
// An event still waiting after this long lost its wake-up (a crash after commit): the sweep re-queues it.
const STALE_SECONDS = 30;
// A batch that conflicts with another writer runs again this many times in all before the job fails.
const BATCH_ATTEMPTS = 3;

/**
 * The rule engine: moves contacts through the workspace's active funnels as its domain events say.
 * Each batch is one transaction that claims queued events (SKIP LOCKED, so workers never block each
 * other), moves contacts forward, and writes history and `contact.stage_changed` in one statement.
 * Lanes split a workspace's contacts: a contact's events are evaluated in order, by one lane.
 */
@Injectable()
export class FunnelEngineService {
  private readonly logger = new Logger('FunnelEngine');

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly engine: FunnelEngineRepository,
    private readonly rules: FunnelRulesCache,
    private readonly domainEvents: DomainEventsService,
  ) {}

  @OnJob('funnels-evaluate')
  async onEvaluate({ workspaceId }: { workspaceId: string }): Promise<void> {
    const result = await this.evaluateWorkspace(workspaceId, { maxBatches: JOB_MAX_BATCHES });
    if (result.more) await this.domainEvents.wake(workspaceId);
  }

  @OnJob('funnels-sweep')
  async onSweep(): Promise<void> {
    for (const workspaceId of await this.engine.staleWorkspaces(STALE_SECONDS)) await this.domainEvents.wake(workspaceId);
  }

  /**
   * Evaluates the workspace's queued domain events until none are left (or each lane ran maxBatches).
   * `lanes` (FUNNEL_ENGINE_LANES) batches run at once, each on its own share of the contacts, so a busy
   * workspace uses more than one database core. Safe to call concurrently and repeatedly; the job
   * calls it, and so do benchmarks and tests.
   */
  async evaluateWorkspace(workspaceId: string, options: { batchSize?: number; maxBatches?: number; lanes?: number } = {}): Promise<EvaluationResult> {
    const of = options.lanes ?? this.config.FUNNEL_ENGINE_LANES;
    const lanes = await Promise.all(Array.from({ length: of }, (_, index) => this.evaluateLane(workspaceId, { index, of }, options)));
    return lanes.reduce((sum, r) => ({ events: sum.events + r.events, moves: sum.moves + r.moves, batches: sum.batches + r.batches, more: sum.more || r.more }));
  }

  private async evaluateLane(workspaceId: string, lane: Lane, options: { batchSize?: number; maxBatches?: number }): Promise<EvaluationResult> {
    const batchSize = options.batchSize ?? BATCH_SIZE;
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    const result: EvaluationResult = { events: 0, moves: 0, batches: 0, more: false };
    for (;;) {
      if (result.batches >= maxBatches) {
        result.more = true;
        return result;
      }
      const batch = await this.evaluateBatchRetrying(workspaceId, lane, batchSize);
      result.events += batch.events;
      result.moves += batch.moves;
      if (batch.events > 0) result.batches++;
      if (batch.events < batchSize) return result;
    }
  }

  /**
   * One batch in one transaction, run again after a conflict with another writer: a deadlock (a lane
   * against a manual move or an erasure of the same contact) or a concurrent first entry. The rerun
   * claims afresh and sees what the other committed. A conflict that persists fails the job, which
   * pg-boss retries.
   */
  private evaluateBatchRetrying(workspaceId: string, lane: Lane, batchSize: number): Promise<{ events: number; moves: number }> {
    return retryOnConflict(
      async () => {
        const rules = await this.rules.get(workspaceId);
        return this.ds.transaction((em) => this.evaluateBatch(em, workspaceId, lane, rules, batchSize));
      },
      {
        attempts: BATCH_ATTEMPTS,
        onRetry: (code, attempt) => this.logger.warn({ workspaceId, lane: lane.index, attempt, code }, 'funnel batch conflicted with another writer; running it again'),
      },
    );
  }

  private async evaluateBatch(em: EntityManager, workspaceId: string, lane: Lane, rules: RuleSet, batchSize: number): Promise<{ events: number; moves: number }> {
    const { claimed, events } = await this.engine.claim(em, workspaceId, batchSize, lane);
    const matches = matchEvents(rules, events);
    let moves: Move[] = [];
    if (matches.length > 0) {
      const applied = await this.engine.appliedEvents(em, workspaceId, [...new Set(matches.map((m) => m.event.id))]);
      const pairs = new Map(matches.map((m) => [pairKey(m.funnel.id, m.event.contactId), { funnelId: m.funnel.id, contactId: m.event.contactId }]));
      const current = await this.engine.lockCurrent(em, workspaceId, [...pairs.values()]);
      moves = planMoves(matches, new Map(current.map((c) => [pairKey(c.funnelId, c.contactId), c])), applied);
      if (moves.length > 0) await this.engine.write(em, workspaceId, movesWrite(moves));
    }
    return { events: claimed, moves: moves.length };
  }
}

/**
 * What a batch's moves write: every stage entered, where each contact now stands, and a
 * `contact.stage_changed` per move for other modules (sequences, webhooks; the engine does not
 * evaluate its own output).
 */
export function movesWrite(moves: readonly Move[]): MovesWrite {
  // The last move of each pair is where the contact stands; the first tells when it entered the funnel.
  const finals = new Map<string, CurrentWrite>();
  for (const m of moves) {
    const key = pairKey(m.funnelId, m.contactId);
    const funnelEnteredAt = finals.get(key)?.funnelEnteredAt ?? m.from?.funnelEnteredAt ?? m.enteredAt;
    finals.set(key, { funnelId: m.funnelId, contactId: m.contactId, stageId: m.to.id, channel: m.channel, enteredAt: m.enteredAt, funnelEnteredAt });
  }
  return {
    history: historyOf(moves),
    // Sorted: two writers inserting the same new rows take their locks in the same order.
    current: [...finals.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w),
    changes: moves.map((m) => ({
      funnelId: m.funnelId,
      contactId: m.contactId,
      properties: { funnelId: m.funnelId, stageId: m.to.id, stageKey: m.to.key, fromStageId: m.from?.stageId ?? null, source: 'rule' },
      dedupeKey: `stage_changed:${m.funnelId}:${m.eventId}`,
      occurredAt: m.enteredAt,
    })),
  };
}

/** History rows of moves: every stage entered, the target last, each naming the stage it came from. */
export function historyOf(moves: readonly Move[]): HistoryWrite[] {
  return moves.flatMap((m) => {
    let from = m.from?.stageId ?? null;
    return m.entries.map((e) => {
      const row: HistoryWrite = {
        funnelId: m.funnelId,
        contactId: m.contactId,
        stageId: e.stageId,
        fromStageId: from,
        enteredAt: m.enteredAt,
        source: e.source,
        eventId: m.eventId,
        eventType: m.eventType,
        channel: m.channel,
        secondsFromPrevious: e.secondsFromPrevious,
        firstEntry: m.newToFunnel ? true : null,
      };
      from = e.stageId;
      return row;
    });
  });
}
