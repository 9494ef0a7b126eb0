import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { migrations } from '../migrations/index.js';
import { Analytics1795255100000 } from '../migrations/1795255100000-Analytics.js';
import { dataSourceOptions } from '../src/database/data-source.js';
import { EventPartitionsService, MONTHS_AHEAD } from '../src/tracking/event-partitions.service.js';
import { monthStart, partitionName } from '../src/tracking/event-partitions.repository.js';
import { bearer, createKey, newWorkspace } from './support/factories.js';
import { createEmptyDatabase, dropDatabase } from './support/test-database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

describe('events partitions', () => {
  let t: TestApp;
  let partitions: EventPartitionsService;
  beforeAll(async () => {
    t = await createTestApp();
    partitions = t.app.get(EventPartitionsService);
  });
  afterAll(() => t.close());

  it('exist from last month to three months ahead, plus a default; creating them again changes nothing', async () => {
    const now = new Date();
    const expected = [];
    for (let m = monthStart(now, -1); m <= monthStart(now, MONTHS_AHEAD); m = monthStart(m, 1)) expected.push(partitionName(m));
    const before = await partitions.list();
    expect(before).toEqual(expect.arrayContaining([...expected, 'events_default']));
    // Several workers at once, then again.
    const created = await Promise.all([partitions.ensureAhead(), partitions.ensureAhead(), partitions.ensureAhead()]);
    expect(created.flat()).toEqual([]);
    expect(await partitions.ensureAhead()).toEqual([]);
    expect(await partitions.list()).toEqual(before);
  });

  it('creates a missing month concurrently exactly once, moving its rows out of the default partition', async () => {
    const owner = await newWorkspace(t);
    const far = monthStart(new Date(), 14);
    const at = new Date(far.getTime() + 3 * 86_400_000).toISOString();
    // Only SQL can write that far ahead (ingestion refuses the future): the row waits in the default partition.
    await t.sql(`INSERT INTO events (workspace_id, type, anonymous_id, occurred_at) VALUES ($1, 'page_view', 'anon_far_future', $2)`, [owner.workspaceId, at]);
    const [{ before }] = await t.sql<{ before: string }>(`SELECT tableoid::regclass::text AS before FROM events WHERE anonymous_id = 'anon_far_future'`);
    expect(before).toBe('events_default');

    const runs = await Promise.all([partitions.ensureRange(far, far), partitions.ensureRange(far, far), partitions.ensureRange(far, far)]);
    expect(runs.flat()).toEqual([partitionName(far)]);
    const [{ after }] = await t.sql<{ after: string }>(`SELECT tableoid::regclass::text AS after FROM events WHERE anonymous_id = 'anon_far_future'`);
    expect(after).toBe(partitionName(far));
    const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM events_default`);
    expect(n).toBe(0);
    // The new partition has the indexes and foreign keys of the others.
    const indexes = await t.sql<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [partitionName(far)]);
    expect(indexes.map((i) => i.indexdef.replace(/^.* USING /, ''))).toEqual(
      expect.arrayContaining(['btree (id, occurred_at)', 'btree (contact_id, occurred_at)', expect.stringMatching(/^brin \(received_at\)/)]),
    );
    await t.sql(`DELETE FROM workspaces WHERE id = $1`, [owner.workspaceId]);
    expect(await t.sql(`SELECT 1 FROM events WHERE anonymous_id = 'anon_far_future'`)).toEqual([]);
  });

  it('ingestion writes through the partitioned table in one statement, ids still increasing', async () => {
    const owner = await newWorkspace(t);
    const pk = (await createKey(t, owner, 'publishable')).key;
    // Backdated events (up to 30 days) go to their month's partition.
    const earlier = new Date(Date.now() - 20 * 86_400_000);
    await t
      .http()
      .post('/v1/public/events')
      .set(...bearer(pk))
      .send({ events: [{ type: 'page_view', anonymousId: 'anon_partitioned', occurredAt: earlier.toISOString() }, { type: 'page_view', anonymousId: 'anon_partitioned' }] })
      .expect(202);
    const rows = await t.sql<{ id: string; part: string }>(
      `SELECT id, tableoid::regclass::text AS part FROM events WHERE anonymous_id = 'anon_partitioned' ORDER BY id`,
    );
    expect(rows.map((r) => r.part)).toEqual([partitionName(monthStart(earlier)), partitionName(monthStart(new Date()))]);
    expect(Number(rows[1].id)).toBeGreaterThan(Number(rows[0].id));
  });
});

describe('the Analytics migration', () => {
  const name = `leadnest_test_mig_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let ds: DataSource;
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await dropDatabase(name);
  });

  it('turns an events table with rows into a partitioned one, keeping every row, and back', async () => {
    const url = await createEmptyDatabase(name);
    // The migrations before it; it and the later ones (some build on its tables) run on the data.
    const analyticsAt = migrations.indexOf(Analytics1795255100000);
    const earlier = migrations.slice(0, analyticsAt);
    const before = new DataSource({ ...dataSourceOptions(url, 2), migrations: earlier });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    const ws = randomUUID();
    const contact = randomUUID();
    await before.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'Migrated')`, [ws]);
    await before.query(`INSERT INTO contacts (id, workspace_id, email) VALUES ($1, $2, 'kept@example.com')`, [contact, ws]);
    // 400 days of events, one a day: 14 months of partitions.
    await before.query(
      `INSERT INTO events (workspace_id, type, anonymous_id, contact_id, properties, context, channel, occurred_at, received_at)
       SELECT $1, 'page_view', 'anon_' || i, CASE WHEN i % 2 = 0 THEN $2::uuid END, jsonb_build_object('i', i), '{"url": "https://x.test"}',
              'instagram', now() - i * interval '1 day', now() - i * interval '1 day' + interval '1 second'
         FROM generate_series(0, 399) i`,
      [ws, contact],
    );
    const snapshot = async (source: DataSource) =>
      source.query<Record<string, unknown>[]>(`SELECT id::int8::text, workspace_id, type, anonymous_id, contact_id, properties, context, channel, occurred_at, received_at FROM events ORDER BY id`);
    const rowsBefore = await snapshot(before);
    await before.destroy();

    ds = new DataSource({ ...dataSourceOptions(url, 2), migrations });
    await ds.initialize();
    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(migrations.slice(analyticsAt).map((m) => m.name));
    expect(await snapshot(ds)).toEqual(rowsBefore);
    const [{ kind }] = await ds.query<{ kind: string }[]>(`SELECT relkind AS kind FROM pg_class WHERE relname = 'events'`);
    expect(kind).toBe('p');
    const parts = await ds.query<{ name: string }[]>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`,
    );
    // The oldest row's month through three months ahead, and the default.
    expect(parts.length).toBeGreaterThanOrEqual(14 + MONTHS_AHEAD + 1);
    const [{ n: inDefault }] = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM events_default`);
    expect(inDefault).toBe(0);
    // New ids continue after the old ones; foreign keys still hold.
    const [{ id }] = await ds.query<{ id: string }[]>(`INSERT INTO events (workspace_id, type, occurred_at) VALUES ($1, 'x', now()) RETURNING id`, [ws]);
    expect(Number(id)).toBeGreaterThan(Number(rowsBefore[rowsBefore.length - 1].id));
    await expect(ds.query(`INSERT INTO events (workspace_id, type, occurred_at) VALUES ($1, 'x', now())`, [randomUUID()])).rejects.toThrow(/foreign key/);
    await ds.query(`DELETE FROM contacts WHERE id = $1`, [contact]);
    const [{ linked }] = await ds.query<{ linked: number }[]>(`SELECT count(contact_id)::int AS linked FROM events`);
    expect(linked).toBe(0);

    // Down to before it: a plain table again, same rows.
    for (let i = migrations.length - 1; i >= analyticsAt; i--) await ds.undoLastMigration({ transaction: 'each' });
    const [{ plain }] = await ds.query<{ plain: string }[]>(`SELECT relkind AS plain FROM pg_class WHERE relname = 'events'`);
    expect(plain).toBe('r');
    expect(await snapshot(ds)).toHaveLength(rowsBefore.length + 1);
    const [{ next }] = await ds.query<{ next: string }[]>(`INSERT INTO events (workspace_id, type, occurred_at) VALUES ($1, 'x', now()) RETURNING id AS next`, [ws]);
    expect(Number(next)).toBeGreaterThan(Number(id));
  });
});
