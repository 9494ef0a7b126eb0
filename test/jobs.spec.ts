import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { JobsService, registryProblems } from '../src/jobs/jobs.service.js';
import { QUEUE_NAMES } from '../src/jobs/queues.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const jobsFor = (invitationId: string) =>
  t.sql<{ state: string }>(`SELECT state FROM pgboss.job WHERE name = 'workspaces-invitation-created' AND data->>'invitationId' = $1`, [invitationId]);

async function waitForState(invitationId: string, state: string, timeoutMs = 10_000): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [job] = await jobsFor(invitationId);
    if (job?.state === state || Date.now() > end) return job?.state;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('jobs inside business transactions', () => {
  it("a rolled-back transaction's job never exists, so it never runs", async () => {
    const jobs = t.app.get(JobsService);
    const ds = t.app.get(DataSource);
    const invitationId = randomUUID();
    await expect(
      ds.transaction(async (em) => {
        const id = await jobs.send('workspaces-invitation-created', { invitationId }, { manager: em });
        expect(id).toEqual(expect.any(String));
        // Visible inside the transaction...
        expect(await em.query(`SELECT 1 FROM pgboss.job WHERE id = $1`, [id])).toHaveLength(1);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    // ...and gone with it: give a worker time to (not) find it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await jobsFor(invitationId)).toEqual([]);
  });

  it("a committed transaction's job is consumed by the worker", async () => {
    const jobs = t.app.get(JobsService);
    const ds = t.app.get(DataSource);
    const invitationId = randomUUID();
    await ds.transaction((em) => jobs.send('workspaces-invitation-created', { invitationId }, { manager: em }));
    expect(await waitForState(invitationId, 'completed')).toBe('completed');
  });

  it('refuses a manager that is not in a transaction', async () => {
    const jobs = t.app.get(JobsService);
    const ds = t.app.get(DataSource);
    await expect(jobs.send('workspaces-invitation-created', { invitationId: randomUUID() }, { manager: ds.manager })).rejects.toThrow(/not in a transaction/);
  });
});

describe('job registry', () => {
  it('is valid for the application', () => {
    expect(registryProblems(new Map(QUEUE_NAMES.map((q) => [q, 1])), QUEUE_NAMES)).toEqual([]);
  });

  it('reports a queue with no handler, one with two, and a handler for no queue', () => {
    const problems = registryProblems(new Map([['a', 2], ['stray', 1]]), ['a', 'b']);
    expect(problems).toEqual([
      expect.stringContaining('"a" has 2 handlers'),
      expect.stringContaining('"b" has 0 handlers'),
      expect.stringContaining('"stray"'),
    ]);
  });
});

describe('shutdown', () => {
  it('answers every pg-boss query under way, even one still waiting for a connection, before it closes the pool', async () => {
    const other = await createTestApp();
    const locker = new pg.Client({ connectionString: other.config.DATABASE_URL });
    // Dropping the test database ends this connection too.
    locker.on('error', () => undefined);
    await locker.connect();
    let closed: Promise<void> | undefined;
    try {
      // Six queries through pg-boss's four connections: four wait for the lock, two for a connection.
      await locker.query(`BEGIN; LOCK TABLE pgboss.version IN ACCESS EXCLUSIVE MODE`);
      const jobs = other.app.get(JobsService);
      const queries = Array.from({ length: 6 }, () => jobs.ping());
      await new Promise((r) => setTimeout(r, 100));
      closed = other.close();
      await new Promise((r) => setTimeout(r, 300));
      await locker.query('COMMIT');
      await closed;
      // pg-boss's own pool, ended as soon as no job ran, never answered the two that were waiting, and
      // the workers behind them never stopped.
      const outcome = await Promise.race([Promise.allSettled(queries).then(() => 'answered'), new Promise((r) => setTimeout(() => r('left waiting'), 3000))]);
      expect(outcome).toBe('answered');
      expect((await Promise.allSettled(queries)).map((q) => q.status)).toEqual(Array(6).fill('fulfilled'));
    } finally {
      await locker.end();
      await (closed ?? other.close());
    }
  });
});
