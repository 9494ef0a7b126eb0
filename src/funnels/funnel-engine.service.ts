import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { NewDomainEvent } from '../domain-events/domain-event.types.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { FunnelEngineRepository, type CurrentWrite, type HistoryWrite } from './funnel-engine.repository.js';
import { FunnelRulesCache } from './funnel-rules.cache.js';
import { matchEvents, pairKey, planMoves, type Move, type RuleSet } from './funnel-rules.js';

export interface EvaluationResult {
  events: number;
  moves: number;
  batches: number;
  // maxBatches was reached with events left.
  more: boolean;
}

const BATCH_SIZE = 1000;
// One job drains at most this many batches, then queues a follow-up: other workspaces get their turn.
const JOB_MAX_BATCHES = 50;
// An event still waiting after this long lost its wake-up (a crash after commit): the sweep re-queues it.
const STALE_SECONDS = 30;

/**
 * The rule engine: moves contacts through the workspace's active funnels as its domain events say.
 * Each batch is one transaction that claims queued events (SKIP LOCKED, so workers never block each
 * other), moves contacts forward, and writes history and `contact.stage_changed`.
 */
@Injectable()
export class FunnelEngineService {
  constructor(
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
   * Evaluates the workspace's queued domain events until none are left (or maxBatches ran). Safe to
   * call concurrently and repeatedly; the job calls it, and so do benchmarks and tests.
   */
  async evaluateWorkspace(workspaceId: string, options: { batchSize?: number; maxBatches?: number } = {}): Promise<EvaluationResult> {
    const batchSize = options.batchSize ?? BATCH_SIZE;
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    const result: EvaluationResult = { events: 0, moves: 0, batches: 0, more: false };
    for (;;) {
      if (result.batches >= maxBatches) {
        result.more = true;
        return result;
      }
      const rules = await this.rules.get(workspaceId);
      const batch = await this.ds.transaction((em) => this.evaluateBatch(em, workspaceId, rules, batchSize));
      result.events += batch.events;
      result.moves += batch.moves;
      if (batch.events > 0) result.batches++;
      if (batch.events < batchSize) return result;
    }
  }

  private async evaluateBatch(em: EntityManager, workspaceId: string, rules: RuleSet, batchSize: number): Promise<{ events: number; moves: number }> {
    const { claimed, events } = await this.engine.claim(em, workspaceId, batchSize);
    const matches = matchEvents(rules, events);
    let moves: Move[] = [];
    if (matches.length > 0) {
      const applied = await this.engine.appliedEvents(em, workspaceId, [...new Set(matches.map((m) => m.event.id))]);
      const pairs = new Map(matches.map((m) => [pairKey(m.funnel.id, m.event.contactId), { funnelId: m.funnel.id, contactId: m.event.contactId }]));
      const current = await this.engine.lockCurrent(em, workspaceId, [...pairs.values()]);
      moves = planMoves(matches, new Map(current.map((c) => [pairKey(c.funnelId, c.contactId), c])), applied);
      await this.write(em, workspaceId, moves);
    }
    return { events: claimed, moves: moves.length };
  }

  private async write(em: EntityManager, workspaceId: string, moves: Move[]): Promise<void> {
    if (moves.length === 0) return;
    await this.engine.insertHistory(em, workspaceId, historyOf(moves));
    // The last move of each pair is where the contact stands; the first tells when it entered the funnel.
    const finals = new Map<string, CurrentWrite>();
    for (const m of moves) {
      const key = pairKey(m.funnelId, m.contactId);
      const funnelEnteredAt = finals.get(key)?.funnelEnteredAt ?? m.from?.funnelEnteredAt ?? m.enteredAt;
      finals.set(key, { funnelId: m.funnelId, contactId: m.contactId, stageId: m.to.id, channel: m.channel, enteredAt: m.enteredAt, funnelEnteredAt });
    }
    // Sorted: two writers inserting the same new rows take their locks in the same order.
    const written = await this.engine.upsertCurrent(em, workspaceId, [...finals.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w));
    const changes: NewDomainEvent[] = moves
      .filter((m) => written.has(pairKey(m.funnelId, m.contactId)))
      .map((m) => ({
        type: 'contact.stage_changed',
        contactId: m.contactId,
        properties: { funnelId: m.funnelId, stageId: m.to.id, stageKey: m.to.key, fromStageId: m.from?.stageId ?? null, source: 'rule' },
        dedupeKey: `stage_changed:${m.funnelId}:${m.eventId}`,
        occurredAt: m.enteredAt,
      }));
    // For other modules (sequences, webhooks); the engine does not evaluate its own output.
    await this.domainEvents.record(em, workspaceId, changes, { evaluate: false });
  }
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
      };
      from = e.stageId;
      return row;
    });
  });
}
