import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { cloneTemplate, dropDatabase } from './test-database.js';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  http: () => ReturnType<typeof supertest>;
  // Runs SQL on this file's database (for assertions: "no row was stored").
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const TEST_DEFAULTS: Partial<AppConfig> = {
  NODE_ENV: 'test',
  JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
  LOG_LEVEL: 'silent',
  LOG_REQUESTS: false,
  DATABASE_POOL_SIZE: 5,
  // Tests sign up many accounts from 127.0.0.1; the rate-limit spec sets its own low limits.
  SIGNUP_LIMIT_PER_IP: 100_000,
  LOGIN_LIMIT_PER_IP: 100_000,
  LOGIN_LIMIT_PER_ACCOUNT: 1_000,
};

/** The real application on a database of its own (cloned from the migrated template). */
export async function createTestApp(overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const dbName = `leadnest_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = await cloneTemplate(dbName);
  const config = loadConfig({}, { ...TEST_DEFAULTS, ...overrides, DATABASE_URL: url });
  const app = await createApp(config);
  await app.getHttpAdapter().getInstance().ready();
  const server = app.getHttpServer();
  const { DataSource } = await import('typeorm');
  const ds = app.get(DataSource);
  return {
    app,
    config,
    http: () => supertest(server),
    sql: <T>(text: string, params: unknown[] = []) => ds.query<T[]>(text, params),
    close: async () => {
      await app.close();
      await dropDatabase(dbName);
    },
  };
}
