import { Controller, Get, Module, type ArgumentsHost } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import pino from 'pino';
import { Writable } from 'node:stream';
import { LOG_REDACT } from '../src/app.module.js';
import { Public } from '../src/common/access.decorators.js';
import { ProblemDetailsFilter } from '../src/common/problem-details.filter.js';
import { KeyedCoalescer } from '../src/common/keyed-coalescer.js';
import { auditRoutes } from '../src/common/route-audit.js';
import { ConfigError, loadConfig } from '../src/config/app-config.js';
import { prepared } from '../src/database/prepared.js';
import { snakeCase } from '../src/database/snake-naming.strategy.js';
import { canAssign } from '../src/workspaces/members.service.js';

describe('config', () => {
  it('applies defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, ROLE: 'all', EMBEDDED_PG_PORT: 54329, CORS_ORIGINS: [] });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('parses typed values', () => {
    const c = loadConfig({ PORT: '8080', TRUST_PROXY: 'true', CORS_ORIGINS: 'https://a.example, https://b.example', ROLE: 'worker' });
    expect(c).toMatchObject({ PORT: 8080, TRUST_PROXY: true, CORS_ORIGINS: ['https://a.example', 'https://b.example'], ROLE: 'worker' });
    expect(c.runsApi).toBe(false);
  });

  it('stops with a message naming each bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', ROLE: 'boss' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', ROLE: 'boss', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT=/);
      expect((err as Error).message).toMatch(/ROLE=/);
      expect((err as Error).message).toMatch(/DATABASE_URL=/);
    }
  });

  it('requires a strong JWT_SECRET in production and never prints it', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    try {
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short-secret' });
    } catch (err) {
      expect((err as Error).message).toContain('JWT_SECRET=(hidden)');
      expect((err as Error).message).not.toContain('short-secret');
    }
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).isProduction).toBe(true);
  });
});

describe('problem details for unexpected errors', () => {
  it('answers 500 without stack, message or SQL', () => {
    let sent: { status?: number; body?: string; type?: string } = {};
    const reply = {
      status(s: number) {
        sent.status = s;
        return this;
      },
      headers() {
        return this;
      },
      header(_: string, v: string) {
        sent.type = v;
        return this;
      },
      send(b: string) {
        sent.body = b;
        return this;
      },
    };
    const host = {
      switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ url: '/v1/x?y=1', method: 'GET', id: 'r1' }) }),
    } as unknown as ArgumentsHost;
    const filter = new ProblemDetailsFilter();
    // The logger is the only place the details go.
    (filter as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    filter.catch(new Error('duplicate key value violates unique constraint "users_email_key" SELECT * FROM users'), host);
    expect(sent.status).toBe(500);
    expect(sent.type).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(sent.body as string);
    expect(body).toEqual({ type: 'urn:leadnest:problem:internal_error', title: 'Internal Server Error', status: 500, detail: expect.any(String), code: 'internal_error', instance: '/v1/x' });
    expect(sent.body).not.toMatch(/SELECT|users_email_key|at .*\.ts/);
    sent = {};
  });
});

describe('log redaction', () => {
  it('never writes credentials', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = pino({ redact: { paths: LOG_REDACT, censor: '[redacted]' } }, sink);
    log.info({ req: { headers: { authorization: 'Bearer sk_secret', cookie: 'sid=1' } }, body: { password: 'hunter22', refreshToken: 'rt_x' } }, 'x');
    expect(lines.join('')).not.toMatch(/sk_secret|sid=1|hunter22|rt_x/);
    expect(lines.join('')).toContain('[redacted]');
  });
});

describe('route declarations', () => {
  @Controller('undeclared')
  class UndeclaredController {
    @Get()
    open(): string {
      return 'oops';
    }

    @Get('fine')
    @Public()
    fine(): string {
      return 'ok';
    }
  }

  @Module({ imports: [DiscoveryModule], controllers: [UndeclaredController] })
  class ProbeModule {}

  it('finds a route that declares neither @Roles nor @Public', async () => {
    const ctx = await NestFactory.createApplicationContext(ProbeModule, { logger: false });
    try {
      expect(auditRoutes(ctx)).toEqual([expect.stringContaining('UndeclaredController.open /undeclared')]);
    } finally {
      await ctx.close();
    }
  });
});

describe('pure rules', () => {
  it('names columns in snake_case', () => {
    expect(snakeCase('passwordHash')).toBe('password_hash');
    expect(snakeCase('lastUsedAt')).toBe('last_used_at');
    expect(snakeCase('workspaceID')).toBe('workspace_id');
  });

  it('lets owners assign any role and admins any but owner', () => {
    expect(canAssign('owner', 'owner')).toBe(true);
    expect(canAssign('admin', 'admin')).toBe(true);
    expect(canAssign('admin', 'owner')).toBe(false);
    expect(canAssign('marketer', 'viewer')).toBe(false);
    expect(canAssign('viewer', 'viewer')).toBe(false);
  });
});

describe('keyed coalescer (funnel wake-ups on hot paths)', () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs once per key per window, after the calls it stands for', async () => {
    const runs: string[] = [];
    const c = new KeyedCoalescer(30, async (key) => void runs.push(key), () => undefined);
    for (let i = 0; i < 10; i++) c.schedule('a');
    c.schedule('b');
    expect(runs).toEqual([]);
    await tick(60);
    expect(runs.sort()).toEqual(['a', 'b']);
    c.schedule('a');
    await tick(60);
    expect(runs).toHaveLength(3);
  });

  it('flushes what is pending at once, and reports failures without throwing', async () => {
    const errors: string[] = [];
    const c = new KeyedCoalescer(10_000, async (key) => {
      if (key === 'bad') throw new Error('down');
    }, (_err, key) => errors.push(key));
    c.schedule('ok');
    c.schedule('bad');
    await c.flush();
    expect(errors).toEqual(['bad']);
  });
});

describe('prepared statements', () => {
  it('refuses one name for two different texts', () => {
    prepared('unit_test_statement', 'SELECT 1');
    expect(() => prepared('unit_test_statement', 'SELECT 1')).not.toThrow();
    expect(() => prepared('unit_test_statement', 'SELECT 2')).toThrow(/declared twice/);
  });
});
