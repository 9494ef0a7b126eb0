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
    const shutdown = new Shutdown(config.SHUTDOWN_TIMEOUT_MS);
    const db = await startDatabase(config, bootLog);
    shutdown.push(() => db.stop());
    config.DATABASE_URL = db.url;
    if (config.MIGRATIONS_RUN) {
      const applied = await migrate(db.url);
      if (applied.length) bootLog(`migrations applied: ${applied.join(', ')}`);
    }
    if (config.runsApi) {
      const app = await createApp(config);
      shutdown.push(() => app.close());
      await app.listen({ port: config.PORT, host: config.HOST });
      bootLog(`LeadNest (role ${config.ROLE}) listening on http://${config.HOST}:${config.PORT}, API docs at /docs`);
    } else {
      const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true });
      ctx.useLogger(ctx.get(Logger));
      await ctx.init();
      shutdown.push(() => ctx.close());
      bootLog('LeadNest worker started');
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
}

/**
 * SIGTERM/SIGINT: closes what was started, newest first: the app (stops accepting, lets in-flight
 * requests and jobs finish), then the database. Installed before anything starts, so a signal during
 * boot still stops the embedded PostgreSQL.
 */
class Shutdown {
  private readonly closers: (() => Promise<void>)[] = [];
  private closing = false;

  constructor(private readonly timeoutMs: number) {
    process.on('SIGTERM', (s) => this.run(s));
    process.on('SIGINT', (s) => this.run(s));
  }

  push(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  private run(signal: NodeJS.Signals): void {
    if (this.closing) return;
    this.closing = true;
    bootLog(`${signal} received: finishing in-flight work, then stopping`);
    setTimeout(() => {
      bootLog('shutdown timed out: exiting');
      process.exit(1);
    }, this.timeoutMs + 5000).unref();
    void (async () => {
      let code = 0;
      for (const close of this.closers.reverse()) {
        await close().catch((err: unknown) => {
          console.error(err);
          code = 1;
        });
      }
      process.exit(code);
    })();
  }
}
