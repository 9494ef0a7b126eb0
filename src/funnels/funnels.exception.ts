import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../common/problem.js';

export enum FunnelErrorCode {
  NotFound = 'not_found',
  HasHistory = 'funnel_has_history',
  Archived = 'funnel_archived',
}

export class FunnelException extends DomainException<FunnelErrorCode> {
  static notFound(what = 'Funnel'): FunnelException {
    return new FunnelException(HttpStatus.NOT_FOUND, FunnelErrorCode.NotFound, `${what} not found.`);
  }
}
