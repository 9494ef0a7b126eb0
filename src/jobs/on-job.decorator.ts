import { SetMetadata } from '@nestjs/common';
import type { JobPayloads, QueueName } from './queues.js';

export const ON_JOB_KEY = 'leadnest:on-job';

export type JobHandlerFn<Q extends QueueName> = (payload: JobPayloads[Q]) => Promise<void>;

/** Marks a provider method as THE handler of a queue; its parameter type is that queue's payload. */
export function OnJob<Q extends QueueName>(queue: Q) {
  return (target: object, key: string | symbol, descriptor: { value?: JobHandlerFn<Q> }): void => {
    SetMetadata(ON_JOB_KEY, queue)(target, key, descriptor as PropertyDescriptor);
  };
}
