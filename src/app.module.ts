import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AuthModule } from './auth/auth.module.js';
import { CommonModule } from './common/common.module.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { UsersModule } from './users/users.module.js';
import { WorkspacesModule } from './workspaces/workspaces.module.js';

// Never logged: credentials in headers, and anything named like a secret in a logged object.
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.key',
  '*.secret',
];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            autoLogging: config.LOG_REQUESTS,
            redact: { paths: LOG_REDACT, censor: '[redacted]' },
            // Fastify assigned the request id (app.factory.ts) before this middleware runs.
            genReqId: (req: IncomingMessage & { id?: string }) => req.id ?? randomUUID(),
            serializers: {
              // Paths only: query strings and bodies can carry personal data or tokens.
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
            },
          },
        }),
        DatabaseModule,
        CommonModule,
        JobsModule,
        HealthModule,
        UsersModule,
        WorkspacesModule,
        AuthModule,
      ],
    };
  }
}
