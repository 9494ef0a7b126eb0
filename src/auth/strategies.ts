import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { Strategy as LocalStrategyBase } from 'passport-local';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import type { Principal } from '../common/auth-context.js';
import { AppConfig } from '../config/app-config.js';
import { ApiKeysService } from '../workspaces/api-keys.service.js';
import { AuthService } from './auth.service.js';
import { jwtKey } from './jwt-key.js';

export function bearerToken(req: { headers: IncomingHttpHeaders }): string | null {
  const header = req.headers.authorization;
  if (!header || !header.startsWith('Bearer ')) return null;
  return header.slice(7).trim() || null;
}

type VerifyKey = (token: string, done: (err: unknown, user?: Principal | null) => void) => void;

/** Passport strategy for `Authorization: Bearer sk_…|pk_…`; other bearer tokens pass to the next strategy. */
class BearerKeyStrategy extends PassportStrategyBase {
  constructor(private readonly verify: VerifyKey) {
    super();
  }

  override authenticate(req: IncomingMessage): void {
    const token = bearerToken(req);
    if (!token || !/^(sk|pk)_/.test(token)) return this.fail(401);
    this.verify(token, (err, principal) => {
      if (err) return this.error(err as Error);
      if (!principal) return this.fail(401);
      this.success(principal);
    });
  }
}

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(BearerKeyStrategy, 'api-key') {
  constructor(private readonly keys: ApiKeysService) {
    super();
  }

  validate(token: string): Promise<Principal | null> {
    return this.keys.authenticate(token);
  }
}

@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase, 'jwt') {
  constructor(config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKey(config.JWT_SECRET as string),
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub?: unknown }): Principal | null {
    return typeof payload.sub === 'string' ? { kind: 'user', userId: payload.sub } : null;
  }
}

@Injectable()
export class LocalStrategy extends PassportStrategy(LocalStrategyBase, 'local') {
  constructor(private readonly auth: AuthService) {
    super({ usernameField: 'email', passwordField: 'password' });
  }

  async validate(email: string, password: string): Promise<Principal> {
    return { kind: 'user', userId: await this.auth.verifyCredentials(email, password) };
  }
}
