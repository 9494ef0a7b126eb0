import { HttpStatus, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { generateToken, hashToken } from '../common/secret-token.js';
import { AppConfig } from '../config/app-config.js';
import { AuthErrorCode, AuthException } from './auth.exception.js';
import type { TokensResponse } from './auth.dto.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';

export interface AccessTokenPayload {
  sub: string;
}

/**
 * Short-lived JWT access tokens and single-use refresh tokens, stored hashed, grouped in families:
 * presenting a spent refresh token revokes its whole family (the token was stolen or replayed).
 */
@Injectable()
export class TokensService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly refreshTokens: RefreshTokensRepository,
  ) {}

  /** A new session: access token plus the first refresh token of a new family. */
  async issue(userId: string, em?: EntityManager): Promise<TokensResponse> {
    return this.issueInFamily(userId, randomUUID(), em);
  }

  async rotate(refreshToken: string): Promise<TokensResponse> {
    const outcome = await this.ds.transaction(async (em) => {
      const row = await this.refreshTokens.findForUpdate(em, hashToken(refreshToken));
      if (!row || row.revokedAt || row.expiresAt <= new Date()) return { kind: 'invalid' as const };
      if (row.usedAt) {
        await this.refreshTokens.revokeFamily(em, row.familyId);
        return { kind: 'reused' as const };
      }
      await this.refreshTokens.markUsed(em, row.id);
      return { kind: 'ok' as const, tokens: await this.issueInFamily(row.userId, row.familyId, em) };
    });
    // Thrown after commit, so the family revocation above is kept.
    if (outcome.kind === 'reused') {
      throw new AuthException(
        HttpStatus.UNAUTHORIZED,
        AuthErrorCode.RefreshTokenReused,
        'This refresh token was already used; its session has been signed out everywhere. Sign in again.',
      );
    }
    if (outcome.kind === 'invalid') {
      throw new AuthException(
        HttpStatus.UNAUTHORIZED,
        AuthErrorCode.InvalidRefreshToken,
        'The refresh token is unknown, expired or revoked. Sign in again.',
      );
    }
    return outcome.tokens;
  }

  /** Ends the session the refresh token belongs to (its family). Unknown tokens are ignored. */
  async revoke(refreshToken: string): Promise<void> {
    const familyId = await this.refreshTokens.findFamilyByHash(hashToken(refreshToken));
    if (familyId) await this.refreshTokens.revokeFamily(undefined, familyId);
  }

  private async issueInFamily(userId: string, familyId: string, em?: EntityManager): Promise<TokensResponse> {
    const refreshToken = generateToken('rt_');
    await this.refreshTokens.insert(em, {
      userId,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(Date.now() + this.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000),
    });
    const accessToken = await this.jwt.signAsync({ sub: userId } satisfies AccessTokenPayload);
    return { accessToken, expiresIn: this.config.JWT_ACCESS_TTL_SECONDS, refreshToken };
  }
}
