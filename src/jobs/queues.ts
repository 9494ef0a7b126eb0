/**
 * Every queue, its payload type and its settings. A payload carries ids only: handlers re-read state.
 * Adding a queue here without exactly one @OnJob handler stops the process at boot.
 */
export interface JobPayloads {
  'workspaces-invitation-created': { invitationId: string };
  'maintenance-purge-expired': Record<string, never>;
  'forms-send-confirmation': { submissionId: string };
  'contacts-import': { importId: string };
  'funnels-evaluate': { workspaceId: string };
  'funnels-sweep': Record<string, never>;
  'tracking-create-partitions': Record<string, never>;
  'analytics-refresh-rollups': Record<string, never>;
}

export type QueueName = keyof JobPayloads;

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
  // Cron schedule (UTC) for recurring maintenance queues; the worker registers it.
  cron?: string;
  // pg-boss policy; 'stately' with a singletonKey keeps one waiting and one running job per key.
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
  // Jobs fetched (and run concurrently) per poll; default 1.
  batchSize?: number;
}

export const QUEUES: Record<QueueName, QueueSettings> = {
  'workspaces-invitation-created': { retryLimit: 8, retryDelaySeconds: 30, expireInSeconds: 300 },
  'maintenance-purge-expired': { retryLimit: 2, retryDelaySeconds: 60, expireInSeconds: 600, cron: '*/15 * * * *' },
  // Provider outages are retried with backoff for about a day.
  'forms-send-confirmation': { retryLimit: 12, retryDelaySeconds: 30, expireInSeconds: 120 },
  // A 50 MB file takes minutes; a retry resumes from the last committed batch.
  'contacts-import': { retryLimit: 4, retryDelaySeconds: 30, expireInSeconds: 3600 },
  // One job per workspace drains its domain events; a burst of events coalesces into one waiting job.
  // Two workspaces at a time, each in FUNNEL_ENGINE_LANES connections (2 × 2 of the pool's 10 by default).
  'funnels-evaluate': { retryLimit: 10, retryDelaySeconds: 5, expireInSeconds: 900, policy: 'stately', batchSize: 2 },
  // Wakes workspaces whose events were recorded without a job (a crash between commit and enqueue).
  'funnels-sweep': { retryLimit: 1, retryDelaySeconds: 30, expireInSeconds: 120, cron: '* * * * *' },
  // Idempotent; hourly so that a worker down at one run is caught up by the next, months ahead of need.
  'tracking-create-partitions': { retryLimit: 3, retryDelaySeconds: 60, expireInSeconds: 600, cron: '7 * * * *' },
  // Rollups at most a minute behind; a run that finds another one busy skips (the next minute catches up).
  'analytics-refresh-rollups': { retryLimit: 0, retryDelaySeconds: 10, expireInSeconds: 600, cron: '* * * * *', policy: 'stately' },
};

export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];
