import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory.js';
import { AppModule } from './app.module.js';
import { ConfigError, type ProcessRole } from './config/app-config.js';
import { readRuntimeConfig } from './config/runtime-config.js';
import { migrate } from './database/data-source.js';
import { startDatabase } from './database/database.runtime.js';

// Before the app's logger exists: same JSON line shape as pino.
export const bootLog = (msg: string): void => {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg })}\n`);
};

/**
 * Starts a process: the database (DATABASE_URL or the embedded one), migrations, then the HTTP API
 * and/or the job worker as ROLE says (main.ts: ROLE from the environment, default all; worker.ts: worker).
 */
export async function boot(role?: ProcessRole): Promise<void> {
  try {
    const config = readRuntimeConfig(role ? { ROLE: role } : {});
    const db = await startDatabase(config, bootLog);
    config.DATABASE_URL = db.url;
    if (config.MIGRATIONS_RUN) {
      const applied = await migrate(db.url);
      if (applied.length) bootLog(`migrations applied: ${applied.join(', ')}`);
    }
    if (config.runsApi) {
      const app = await createApp(config);
      onShutdown(config.SHUTDOWN_TIMEOUT_MS, async () => {
        await app.close();
        await db.stop();
      });
      await app.listen({ port: config.PORT, host: config.HOST });
      bootLog(`LeadNest (role ${config.ROLE}) listening on http://${config.HOST}:${config.PORT}, API docs at /docs`);
    } else {
      const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true });
      ctx.useLogger(ctx.get(Logger));
      await ctx.init();
      onShutdown(config.SHUTDOWN_TIMEOUT_MS, async () => {
        await ctx.close();
        await db.stop();
      });
      bootLog('LeadNest worker started');
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
}

/** SIGTERM/SIGINT: stop accepting, let in-flight requests and jobs finish, then stop the database. */
function onShutdown(timeoutMs: number, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    bootLog(`${signal} received: finishing in-flight work, then stopping`);
    setTimeout(() => {
      bootLog('shutdown timed out: exiting');
      process.exit(1);
    }, timeoutMs + 5000).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
