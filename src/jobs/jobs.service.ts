import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { BossDb } from './boss-db.js';
import { ON_JOB_KEY, type JobHandlerFn } from './on-job.decorator.js';
import { QUEUE_NAMES, QUEUES, type JobPayloads, type QueueName } from './queues.js';

export interface SendOptions {
  // The business transaction the job belongs to: rolled back, the job never exists.
  manager?: EntityManager;
  startAfter?: Date | number;
  singletonKey?: string;
}

export class JobRegistryError extends Error {}

/** What is wrong with a set of handlers: a declared queue without exactly one, or a handler for no queue. */
export function registryProblems(handlerCounts: Map<string, number>, declared: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of declared) {
    const n = handlerCounts.get(name) ?? 0;
    if (n !== 1) problems.push(`queue "${name}" has ${n} handlers (exactly one @OnJob handler is required)`);
  }
  for (const name of handlerCounts.keys()) {
    if (!declared.includes(name)) problems.push(`@OnJob("${name}") names a queue that queues.ts does not declare`);
  }
  return problems;
}

/**
 * pg-boss in the application's PostgreSQL (its own schema). Validates at boot that every queue has
 * exactly one handler; workers (ROLE=worker|all) consume, every role can enqueue.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly boss: PgBoss;
  private readonly db: BossDb;
  private handlers = new Map<QueueName, JobHandlerFn<QueueName>>();
  private started = false;
  // Handler calls under way: shutdown waits for them.
  private running = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {
    // pg errors carry their client object: log the message and code only.
    const logError = (err: Error & { code?: string }) => this.logger.error({ code: err.code }, `pg-boss: ${err.message}`);
    this.db = new BossDb({ connectionString: config.DATABASE_URL, max: 4, application_name: 'leadnest-jobs' }, logError);
    this.boss = new PgBoss({
      db: this.db,
      schema: config.JOBS_SCHEMA,
      pollingIntervalSeconds: config.NODE_ENV === 'test' ? 0.5 : 2,
      // Maintenance and cron timers only where they serve: not in test apps, whose timers would
      // outlive a test file torn down seconds after boot.
      supervise: config.runsWorker && config.NODE_ENV !== 'test',
      schedule: config.runsWorker && config.NODE_ENV !== 'test',
    });
    this.boss.on('error', logError);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handlers = this.discoverHandlers();
    await this.boss.start();
    this.started = true;
    for (const name of QUEUE_NAMES) {
      const s = QUEUES[name];
      await this.boss.createQueue(name, {
        name,
        retryLimit: s.retryLimit,
        retryDelay: s.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: s.expireInSeconds,
        policy: s.policy,
      });
    }
    if (!this.config.runsWorker) return;
    for (const [name, handler] of this.handlers) {
      // A failure fails the whole batch; handlers re-read state, so the retried siblings are harmless.
      await this.boss.work<JobPayloads[typeof name]>(name, { batchSize: QUEUES[name].batchSize ?? 1 }, async (jobs) => {
        this.running++;
        try {
          await Promise.all(jobs.map((job) => handler(job.data)));
        } finally {
          this.running--;
        }
      });
      const cron = QUEUES[name].cron;
      if (cron) await this.boss.schedule(name, cron, {}, { tz: 'UTC' });
    }
    this.logger.log(`worker consuming ${this.handlers.size} queues`);
  }

  /**
   * Graceful, within SHUTDOWN_TIMEOUT_MS: workers stop polling, running handlers finish, and so does
   * whatever a worker had under way when told to stop (a poll, or a job that poll fetched and its
   * completion). Only then does the pool close, so every worker has stopped when this returns.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.started) {
      this.started = false;
      const timeout = Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS);
      const deadline = Date.now() + timeout;
      await this.boss.stop({ graceful: true, wait: true, timeout });
      while ((this.db.busy || this.running > 0) && Date.now() < deadline) await sleep(10);
      if (this.db.busy || this.running > 0) this.logger.warn({ running: this.running }, 'pg-boss work still under way at the shutdown deadline');
    }
    await this.db.close();
  }

  /** Enqueues a job; with `manager`, inside that transaction (commit → job exists; rollback → it never did). */
  async send<Q extends QueueName>(queue: Q, payload: JobPayloads[Q], options: SendOptions = {}): Promise<string | null> {
    const { manager, ...rest } = options;
    const sendOptions: PgBoss.SendOptions = { ...rest };
    if (manager) {
      const runner = manager.queryRunner;
      if (!runner?.isTransactionActive) throw new Error('JobsService.send: the manager given is not in a transaction');
      sendOptions.db = {
        executeSql: async (text: string, values: unknown[]) => ({ rows: (await runner.query(text, values, true)).records }),
      };
    }
    return this.boss.send(queue, payload, sendOptions);
  }

  /** For readiness: the queue's schema answers through pg-boss's own pool. */
  async ping(): Promise<void> {
    await this.boss.getDb().executeSql(`SELECT 1 FROM ${this.config.JOBS_SCHEMA}.version`, []);
  }

  private discoverHandlers(): Map<QueueName, JobHandlerFn<QueueName>> {
    const found = new Map<QueueName, JobHandlerFn<QueueName>[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const queue = this.reflector.get<QueueName | undefined>(ON_JOB_KEY, fn as () => void);
        if (!queue) continue;
        const list = found.get(queue) ?? [];
        list.push((fn as JobHandlerFn<QueueName>).bind(instance));
        found.set(queue, list);
      }
    }
    const problems = registryProblems(new Map([...found].map(([q, list]) => [q, list.length])), QUEUE_NAMES);
    if (problems.length > 0) throw new JobRegistryError(`Job registry is invalid:\n  ${problems.join('\n  ')}`);
    return new Map([...found].map(([q, [h]]) => [q, h]));
  }
}
