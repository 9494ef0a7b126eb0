import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../common/problem.js';

export enum WorkspaceErrorCode {
  NotFound = 'not_found',
  LastOwner = 'last_owner',
  AlreadyMember = 'already_member',
  InvitationInvalid = 'invitation_invalid',
  InvitationEmailMismatch = 'invitation_email_mismatch',
  RoleNotAllowed = 'role_not_allowed',
}

export class WorkspaceException extends DomainException<WorkspaceErrorCode> {
  static notFound(what = 'Resource'): WorkspaceException {
    return new WorkspaceException(HttpStatus.NOT_FOUND, WorkspaceErrorCode.NotFound, `${what} not found.`);
  }
}
