import { Injectable, Logger } from '@nestjs/common';
import { OnJob } from '../jobs/on-job.decorator.js';
import { EventPartitionsRepository, monthStart, partitionName } from './event-partitions.repository.js';

// Partitions exist this many months past the current one, so the job can miss a few runs harmlessly.
export const MONTHS_AHEAD = 3;
// Ingestion accepts events up to 30 days old: the previous month must exist too.
const DAYS_BACK = 31;

/** Keeps monthly partitions of `events` created ahead of time. Idempotent: existing months are left alone. */
@Injectable()
export class EventPartitionsService {
  private readonly logger = new Logger('EventPartitions');

  constructor(private readonly partitions: EventPartitionsRepository) {}

  /** The months ingestion can write to now, and MONTHS_AHEAD more. Returns the partitions it created. */
  ensureAhead(now = new Date()): Promise<string[]> {
    return this.ensureRange(new Date(now.getTime() - DAYS_BACK * 86_400_000), monthStart(now, MONTHS_AHEAD));
  }

  /** One partition per month from the month of `from` to the month of `to`, both included. */
  async ensureRange(from: Date, to: Date): Promise<string[]> {
    const created: string[] = [];
    for (let month = monthStart(from); month <= to; month = monthStart(month, 1)) {
      if (await this.partitions.ensureMonth(month)) created.push(partitionName(month));
    }
    if (created.length > 0) this.logger.log(`created events partitions ${created.join(', ')}`);
    return created;
  }

  list(): Promise<string[]> {
    return this.partitions.list();
  }

  @OnJob('tracking-create-partitions')
  async onSchedule(): Promise<void> {
    await this.ensureAhead();
  }
}
