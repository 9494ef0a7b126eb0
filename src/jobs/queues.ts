/**
 * Every queue, its payload type and its settings. A payload carries ids only: handlers re-read state.
 * Adding a queue here without exactly one @OnJob handler stops the process at boot.
 */
export interface JobPayloads {
  'workspaces-invitation-created': { invitationId: string };
  'maintenance-purge-expired': Record<string, never>;
  'forms-send-confirmation': { submissionId: string };
  'contacts-import': { importId: string };
}

export type QueueName = keyof JobPayloads;

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
  // Cron schedule (UTC) for recurring maintenance queues; the worker registers it.
  cron?: string;
}

export const QUEUES: Record<QueueName, QueueSettings> = {
  'workspaces-invitation-created': { retryLimit: 8, retryDelaySeconds: 30, expireInSeconds: 300 },
  'maintenance-purge-expired': { retryLimit: 2, retryDelaySeconds: 60, expireInSeconds: 600, cron: '*/15 * * * *' },
  // Provider outages are retried with backoff for about a day.
  'forms-send-confirmation': { retryLimit: 12, retryDelaySeconds: 30, expireInSeconds: 120 },
  // A 50 MB file takes minutes; a retry resumes from the last committed batch.
  'contacts-import': { retryLimit: 4, retryDelaySeconds: 30, expireInSeconds: 3600 },
};

export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];
