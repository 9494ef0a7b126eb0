import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { PG_ERROR, pgErrorCode } from '../database/pg-errors.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { RollupsRepository } from './rollups.repository.js';

export interface RefreshOptions {
  // Queue behind a refresh in progress (default), or give up at once when one is running.
  wait?: boolean;
  // Bounds the lock wait and every statement; a refresh that overruns rolls back, nothing half-done.
  timeoutMs?: number;
}

export type RefreshResult =
  | { skipped: true }
  | { skipped: false; horizon: Date; trafficRows: number; contactBuckets: number; ms: number };

/**
 * Keeps the analytics rollups current: every minute from the worker's cron, or on demand (`refresh()`
 * is safe to call from any number of processes at once: they take turns on the watermark rows).
 */
@Injectable()
export class RollupsService {
  private readonly logger = new Logger('Rollups');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly rollups: RollupsRepository,
  ) {}

  /** Counts everything that arrived since the watermarks, in one transaction. */
  async refresh(options: RefreshOptions = {}): Promise<RefreshResult> {
    const started = performance.now();
    try {
      return await this.ds.transaction(async (em) => {
        await this.limit(em, options.timeoutMs);
        const marks = await this.rollups.lockWatermarks(em, options.wait ?? true);
        const horizon = await this.rollups.horizon(em);
        const scope = { kind: 'since-watermarks', horizon } as const;
        const trafficRows = await this.rollups.collectTraffic(em, marks, scope);
        await this.rollups.addTraffic(em);
        const contactBuckets = await this.rollups.collectContactBuckets(em, marks, scope);
        await this.rollups.recomputeContacts(em);
        await this.rollups.deriveHoursAndDays(em);
        await this.rollups.advance(em, horizon);
        return { skipped: false, horizon, trafficRows, contactBuckets, ms: Math.round(performance.now() - started) };
      });
    } catch (err) {
      if (options.wait === false && pgErrorCode(err) === PG_ERROR.lockNotAvailable) return { skipped: true };
      throw err;
    }
  }

  /**
   * Recounts one workspace from its raw rows, up to the current watermarks (the next refresh takes it
   * from there). For data written with past timestamps, which a watermark has already passed: the demo
   * seed, a backfill.
   */
  async rebuildWorkspace(workspaceId: string): Promise<void> {
    await this.ds.transaction(async (em) => {
      const marks = await this.rollups.lockWatermarks(em, true);
      const scope = { kind: 'workspace', workspaceId } as const;
      await this.rollups.clearWorkspace(em, workspaceId);
      await this.rollups.collectTraffic(em, marks, scope);
      await this.rollups.addTraffic(em);
      await this.rollups.collectContactBuckets(em, marks, scope);
      await this.rollups.recomputeContacts(em);
      await this.rollups.deriveHoursAndDays(em);
    });
  }

  @OnJob('analytics-refresh-rollups')
  async onSchedule(): Promise<void> {
    const result = await this.refresh({ wait: false });
    if (!result.skipped && result.ms > 10_000) this.logger.warn(`rollup refresh took ${result.ms} ms (${result.trafficRows} traffic rows)`);
  }

  private async limit(em: EntityManager, timeoutMs: number | undefined): Promise<void> {
    if (!timeoutMs) return;
    const ms = `${Math.ceil(timeoutMs)}ms`;
    await em.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $1, true)`, [ms]);
  }
}
