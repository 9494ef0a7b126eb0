import { Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { ValidationException } from '../common/problem.js';
import { flattenValidationErrors, VALIDATION_OPTIONS } from '../common/validation.js';
import { LoginDto } from './auth.dto.js';
import { AuthService } from './auth.service.js';

/**
 * Guards run before pipes, so the login body is validated here, then rate limited (per IP and per
 * account), and only then does passport-local check the password.
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  constructor(private readonly auth: AuthService) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const dto = plainToInstance(LoginDto, req.body ?? {});
    const errors = await validate(dto, VALIDATION_OPTIONS);
    if (errors.length > 0) throw new ValidationException(flattenValidationErrors(errors));
    req.body = dto;
    await this.auth.limitLogin(dto.email, req.ip);
    await super.canActivate(ctx);
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    return user;
  }
}
