import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '../config/app-config.js';
import { UsersModule } from '../users/users.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { AccessGuard } from './access.guard.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { LocalAuthGuard } from './local-auth.guard.js';
import { PasswordService } from './password.service.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';
import { ApiKeyStrategy, JwtStrategy, LocalStrategy } from './strategies.js';
import { TokensService } from './tokens.service.js';
import { AuthMaintenance } from './auth.maintenance.js';
import { jwtKey } from './jwt-key.js';

@Module({
  imports: [
    PassportModule,
    UsersModule,
    WorkspacesModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: jwtKey(config.JWT_SECRET as string),
        signOptions: { expiresIn: config.JWT_ACCESS_TTL_SECONDS, algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    TokensService,
    PasswordService,
    RefreshTokensRepository,
    LocalStrategy,
    JwtStrategy,
    ApiKeyStrategy,
    LocalAuthGuard,
    AuthMaintenance,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
})
export class AuthModule {}
