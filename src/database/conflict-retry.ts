import { PG_ERROR, pgErrorCode } from './pg-errors.js';

/**
 * Failures that a fresh run of the same transaction resolves: PostgreSQL chose it as a deadlock's
 * victim, another transaction committed the same unique key first, or changed what this one had read
 * (a serialization failure, or the application's own ConcurrentChange).
 */
export const TRANSIENT_CONFLICTS: readonly string[] = [PG_ERROR.deadlockDetected, PG_ERROR.uniqueViolation, PG_ERROR.serializationFailure];

/** Thrown by a transaction that finds another one changed what it had read: retried like a serialization failure. */
export class ConcurrentChange extends Error {
  readonly code = PG_ERROR.serializationFailure;
}

export interface ConflictRetryOptions {
  // Runs in all, the first included.
  attempts: number;
  codes?: readonly string[];
  onRetry?: (code: string, attempt: number) => void;
}

/**
 * Runs `transaction` again while it fails with one of `codes`, up to `attempts` runs; then its error
 * goes to the caller. Each run must be a whole transaction that re-reads what it decides on, so a
 * rerun sees what the other side committed.
 */
export async function retryOnConflict<T>(transaction: () => Promise<T>, options: ConflictRetryOptions): Promise<T> {
  const codes = options.codes ?? TRANSIENT_CONFLICTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      const code = pgErrorCode(err);
      if (attempt >= options.attempts || code === undefined || !codes.includes(code)) throw err;
      options.onRetry?.(code, attempt);
    }
  }
}
