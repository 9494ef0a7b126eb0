import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../common/problem.js';

export enum FormErrorCode {
  NotFound = 'not_found',
  SlugTaken = 'slug_taken',
  InvalidDefinition = 'invalid_form_definition',
  HasSubmissions = 'form_has_submissions',
  OriginNotAllowed = 'origin_not_allowed',
  SpamSuspected = 'spam_suspected',
  IdempotencyKeyReused = 'idempotency_key_reused',
  TokenInvalid = 'token_invalid',
}

export class FormException extends DomainException<FormErrorCode> {
  static notFound(what = 'Form'): FormException {
    return new FormException(HttpStatus.NOT_FOUND, FormErrorCode.NotFound, `${what} not found.`);
  }
}
