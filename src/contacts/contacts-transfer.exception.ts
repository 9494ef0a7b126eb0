import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../common/problem.js';

export enum TransferErrorCode {
  NotFound = 'not_found',
  UnsupportedMediaType = 'unsupported_media_type',
  IdempotencyKeyReused = 'idempotency_key_reused',
}

/** Contact import and export. */
export class TransferException extends DomainException<TransferErrorCode> {
  static notFound(): TransferException {
    return new TransferException(HttpStatus.NOT_FOUND, TransferErrorCode.NotFound, 'Import not found.');
  }

  static notCsv(): TransferException {
    return new TransferException(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      TransferErrorCode.UnsupportedMediaType,
      'Send the file itself as the body, with "Content-Type: text/csv".',
    );
  }

  static idempotencyKeyReused(): TransferException {
    return new TransferException(
      HttpStatus.UNPROCESSABLE_ENTITY,
      TransferErrorCode.IdempotencyKeyReused,
      'This Idempotency-Key was already used for a different import.',
    );
  }
}
