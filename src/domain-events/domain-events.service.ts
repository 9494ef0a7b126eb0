import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { KeyedCoalescer } from '../common/keyed-coalescer.js';
import { JobsService } from '../jobs/jobs.service.js';
import { WAKE_WINDOW_MS, type NewDomainEvent } from './domain-event.types.js';
import { DomainEventsRepository } from './domain-events.repository.js';

/**
 * The hook every module records what happened to a contact through, inside its own business
 * transaction. Recording wakes the funnel rule engine (its only consumer today) in the same transaction.
 */
@Injectable()
export class DomainEventsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DomainEvents');
  private readonly wakeUps = new KeyedCoalescer(
    WAKE_WINDOW_MS,
    (workspaceId) => this.wake(workspaceId),
    (err, workspaceId) => this.logger.warn({ workspaceId, err: (err as Error).message }, 'could not wake the funnel engine; the sweep will'),
  );

  constructor(
    private readonly events: DomainEventsRepository,
    private readonly jobs: JobsService,
  ) {}

  /** Returns how many events were new (a replayed dedupe key is not recorded again). */
  async record(em: EntityManager, workspaceId: string, events: readonly NewDomainEvent[], options: { evaluate?: boolean } = {}): Promise<number> {
    if (events.length === 0) return 0;
    const evaluate = options.evaluate ?? true;
    const recorded = await this.events.insert(em, workspaceId, events, evaluate);
    if (recorded > 0 && evaluate) await this.wake(workspaceId, em);
    return recorded;
  }

  /**
   * Enqueues the workspace's rule evaluation. The queue is 'stately' with the workspace as singleton
   * key: a burst of events makes one waiting job, while one may still run.
   */
  async wake(workspaceId: string, manager?: EntityManager): Promise<void> {
    await this.jobs.send('funnels-evaluate', { workspaceId }, { manager, singletonKey: workspaceId });
  }

  /**
   * For hot paths that queued events in a statement of their own (public submissions, event
   * batches): call after the commit. Wake-ups within WAKE_WINDOW_MS become one job sent at the end of
   * the window, instead of a statement per request. The queued events are durable already; should the
   * process die before the job is sent, the funnels-sweep job wakes the workspace within a minute.
   */
  wakeSoon(workspaceId: string): void {
    this.wakeUps.schedule(workspaceId);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.wakeUps.flush();
  }
}
