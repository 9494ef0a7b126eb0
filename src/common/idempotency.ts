import { HttpStatus } from '@nestjs/common';
import { DomainException, ValidationException } from './problem.js';

const KEY_FORMAT = /^[\w.:-]{8,200}$/;

/** The `Idempotency-Key` header as sent, checked: absent is null, a malformed key is a 400. */
export function idempotencyKey(header: string | string[] | null | undefined): string | null {
  if (header === undefined || header === null) return null;
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || !KEY_FORMAT.test(key)) {
    throw new ValidationException([{ field: 'Idempotency-Key', message: 'must be 8-200 letters, digits or . _ : -' }]);
  }
  return key;
}

export enum IdempotencyErrorCode {
  KeyReused = 'idempotency_key_reused',
  InProgress = 'idempotency_key_in_progress',
}

export class IdempotencyException extends DomainException<IdempotencyErrorCode> {
  static reused(): IdempotencyException {
    return new IdempotencyException(
      HttpStatus.UNPROCESSABLE_ENTITY,
      IdempotencyErrorCode.KeyReused,
      'This Idempotency-Key was already used for a different request.',
    );
  }

  static inProgress(retryAfterSeconds: number): IdempotencyException {
    return new IdempotencyException(
      HttpStatus.CONFLICT,
      IdempotencyErrorCode.InProgress,
      'A request with this Idempotency-Key is still being processed; retry it later for its answer.',
      undefined,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}
