import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../common/problem.js';

export enum AuthErrorCode {
  Unauthenticated = 'unauthenticated',
  InvalidCredentials = 'invalid_credentials',
  EmailTaken = 'email_taken',
  InvalidRefreshToken = 'invalid_refresh_token',
  RefreshTokenReused = 'refresh_token_reused',
  UserSessionRequired = 'user_session_required',
  PublishableKeyNotAllowed = 'publishable_key_not_allowed',
  InsufficientRole = 'insufficient_role',
  NotFound = 'not_found',
  KeyRequired = 'key_required',
}

export class AuthException extends DomainException<AuthErrorCode> {
  static unauthenticated(): AuthException {
    return new AuthException(
      HttpStatus.UNAUTHORIZED,
      AuthErrorCode.Unauthenticated,
      'Send a valid access token or secret key as "Authorization: Bearer …".',
      undefined,
      { 'www-authenticate': 'Bearer' },
    );
  }

  static forbidden(code: AuthErrorCode, detail: string): AuthException {
    return new AuthException(HttpStatus.FORBIDDEN, code, detail);
  }

  static workspaceNotFound(): AuthException {
    return new AuthException(HttpStatus.NOT_FOUND, AuthErrorCode.NotFound, 'Workspace not found.');
  }
}
