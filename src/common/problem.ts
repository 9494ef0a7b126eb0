import { HttpStatus } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  errors?: FieldError[];
}

/**
 * Base of every area's exception: an HTTP status, a stable machine-readable code (the area's enum) and a
 * human detail. The problem filter turns it into problem+json; nothing else shapes error bodies.
 */
export class DomainException<C extends string = string> extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: C,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export enum CommonErrorCode {
  ValidationFailed = 'validation_failed',
  NotFound = 'not_found',
  RateLimited = 'rate_limited',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
}

export class ValidationException extends DomainException<CommonErrorCode> {
  constructor(errors: FieldError[], detail = 'The request has invalid fields.') {
    super(HttpStatus.BAD_REQUEST, CommonErrorCode.ValidationFailed, detail, errors);
  }
}

export class RateLimitedException extends DomainException<CommonErrorCode> {
  constructor(retryAfterSeconds: number) {
    super(HttpStatus.TOO_MANY_REQUESTS, CommonErrorCode.RateLimited, 'Too many requests, retry later.', undefined, {
      'retry-after': String(Math.max(1, retryAfterSeconds)),
    });
  }
}

export function problemType(code: string | undefined): string {
  return code ? `urn:leadnest:problem:${code}` : 'about:blank';
}
