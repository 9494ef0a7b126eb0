import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { RateLimitService } from '../common/rate-limit.service.js';
import { AppConfig } from '../config/app-config.js';
import { UsersRepository } from '../users/users.repository.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { AuthErrorCode, AuthException } from './auth.exception.js';
import { toUserResponse, type LoginResponse, type MeResponse, type SignupDto, type SignupResponse, type TokensResponse } from './auth.dto.js';
import { PasswordService } from './password.service.js';
import { TokensService } from './tokens.service.js';

// Enough to list a person's workspaces in one answer; the paged list is GET /v1/workspaces.
const WORKSPACES_IN_SESSION = 100;

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly users: UsersRepository,
    private readonly workspaces: WorkspacesService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokensService,
    private readonly rateLimits: RateLimitService,
  ) {}

  /** A user, their first workspace (they own it) and a session, in one transaction. */
  async signup(dto: SignupDto, ip: string): Promise<SignupResponse> {
    await this.rateLimits.consume({
      key: `signup:ip:${ip}`,
      max: this.config.SIGNUP_LIMIT_PER_IP,
      windowSeconds: this.config.SIGNUP_LIMIT_WINDOW_SECONDS,
    });
    const passwordHash = await this.passwords.hash(dto.password);
    return this.ds.transaction(async (em) => {
      const user = await this.users.insert(em, { email: dto.email, name: dto.name ?? null, passwordHash });
      if (!user) {
        throw new AuthException(HttpStatus.CONFLICT, AuthErrorCode.EmailTaken, 'An account with this email already exists. Sign in instead.');
      }
      const workspace = await this.workspaces.create(user.id, dto.workspaceName, em);
      const tokens = await this.tokens.issue(user.id, em);
      return { ...tokens, user: toUserResponse(user), workspace };
    });
  }

  /** Counts a login attempt per IP and per account before any password is checked. */
  async limitLogin(email: string, ip: string): Promise<void> {
    const windowSeconds = this.config.LOGIN_LIMIT_WINDOW_SECONDS;
    const account = createHash('sha256').update(email).digest('base64url');
    await this.rateLimits.consume(
      { key: `login:ip:${ip}`, max: this.config.LOGIN_LIMIT_PER_IP, windowSeconds },
      { key: `login:account:${account}`, max: this.config.LOGIN_LIMIT_PER_ACCOUNT, windowSeconds },
    );
  }

  /** The same answer, in about the same time, for an unknown email and a wrong password. */
  async verifyCredentials(email: string, password: string): Promise<string> {
    const user = await this.users.findByEmail(email);
    if (!(await this.passwords.verify(user?.passwordHash, password)) || !user) {
      throw new AuthException(HttpStatus.UNAUTHORIZED, AuthErrorCode.InvalidCredentials, 'Email or password is incorrect.');
    }
    return user.id;
  }

  async login(userId: string): Promise<LoginResponse> {
    const [tokens, me] = await Promise.all([this.tokens.issue(userId), this.me(userId)]);
    return { ...tokens, ...me };
  }

  refresh(refreshToken: string): Promise<TokensResponse> {
    return this.tokens.rotate(refreshToken);
  }

  logout(refreshToken: string): Promise<void> {
    return this.tokens.revoke(refreshToken);
  }

  async me(userId: string): Promise<MeResponse> {
    const [user, page] = await Promise.all([this.users.findProfile(userId), this.workspaces.listMine(userId, WORKSPACES_IN_SESSION)]);
    // A valid token for a user that no longer exists.
    if (!user) throw AuthException.unauthenticated();
    return { user: toUserResponse(user), workspaces: page.data };
  }
}
