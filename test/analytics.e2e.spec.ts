import { randomUUID } from 'node:crypto';
import { RollupsService } from '../src/analytics/rollups.service.js';
import { addMember, bearer, createKey, expectProblem, newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { newForm, submit } from './support/forms.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let rollups: RollupsService;
beforeAll(async () => {
  t = await createTestApp();
  rollups = t.app.get(RollupsService);
});
afterAll(() => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Refreshes until the rollups count everything written before `since`: rows stamped within the last
 * second, or while an older transaction is still open, are left to a later refresh.
 */
async function refreshPast(since: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const result = await rollups.refresh();
    if (!result.skipped && result.horizon.getTime() > since) return;
    await sleep(200);
  }
  throw new Error('the rollups did not catch up');
}

const analytics = (s: Session, report: 'overview' | 'sources', query: Record<string, string> = {}, token = s.accessToken) =>
  t.http().get(`/v1/workspaces/${s.workspaceId}/analytics/${report}`).query(query).set(...bearer(token));

interface CraftedContact {
  at: string;
  channel: string | null;
  campaign?: string;
  email?: 'none' | 'pending' | 'subscribed';
  sms?: 'none' | 'pending' | 'subscribed';
}

/** Contacts with chosen creation times, sources and statuses, as if they had signed up then. */
async function insertContacts(ws: string, contacts: CraftedContact[]): Promise<string[]> {
  const rows = await t.sql<{ id: string }>(
    `INSERT INTO contacts (workspace_id, email, email_status, sms_status, first_channel, first_touch, created_at, updated_at)
     SELECT $1, lower(c.email), c.email_status, c.sms_status, c.channel,
            CASE WHEN c.channel IS NULL THEN NULL ELSE jsonb_strip_nulls(jsonb_build_object('channel', c.channel, 'utm_campaign', c.campaign)) END,
            c.at, c.at
       FROM jsonb_to_recordset($2::jsonb) AS c(email text, email_status text, sms_status text, channel text, campaign text, at timestamptz)
     RETURNING id`,
    [
      ws,
      JSON.stringify(
        contacts.map((c) => ({ email: uniqueEmail('crafted'), email_status: c.email ?? 'none', sms_status: c.sms ?? 'none', channel: c.channel, campaign: c.campaign ?? null, at: c.at })),
      ),
    ],
  );
  return rows.map((r) => r.id);
}

/** Events as the embed sends them, received when they occurred. */
async function insertEvents(ws: string, events: { at: string; type?: string; formId?: string; channel?: string | null; campaign?: string; n?: number }[]): Promise<void> {
  await t.sql(
    `INSERT INTO events (workspace_id, type, anonymous_id, properties, context, channel, occurred_at, received_at)
     SELECT $1, e.type, 'anon_' || md5(random()::text), jsonb_strip_nulls(jsonb_build_object('formId', e.form_id)),
            jsonb_strip_nulls(jsonb_build_object('utm_campaign', e.campaign)), e.channel, e.at, e.at
       FROM jsonb_to_recordset($2::jsonb) AS e(type text, form_id text, channel text, campaign text, at timestamptz, n int),
            generate_series(1, e.n)`,
    [ws, JSON.stringify(events.map((e) => ({ type: e.type ?? 'form_view', form_id: e.formId ?? null, channel: e.channel ?? null, campaign: e.campaign ?? null, at: e.at, n: e.n ?? 1 })))],
  );
}

async function insertSubmissions(ws: string, subs: { at: string; formId: string; channel: string; campaign?: string }[]): Promise<void> {
  await t.sql(
    `INSERT INTO submissions (workspace_id, form_id, form_version, "values", context, channel, status, created_at)
     SELECT $1, s.form_id, 1, '{}', jsonb_strip_nulls(jsonb_build_object('utm_campaign', s.campaign)), s.channel, 201, s.at
       FROM jsonb_to_recordset($2::jsonb) AS s(form_id uuid, channel text, campaign text, at timestamptz)`,
    [ws, JSON.stringify(subs.map((s) => ({ form_id: s.formId, channel: s.channel, campaign: s.campaign ?? null, at: s.at })))],
  );
}

/** The crafted data set of the report tests: three days of March 2025. */
async function craftedWorkspace(): Promise<{ owner: Session; giveaway: string; newsletter: string }> {
  const owner = await newWorkspace(t);
  const giveaway = (await newForm(t, owner, { name: 'Giveaway' })).id;
  const newsletter = (await newForm(t, owner, { name: 'Newsletter' })).id;
  const stranger = await newWorkspace(t, 'stranger');
  const strangersForm = (await newForm(t, stranger, { name: 'Theirs' })).id;
  await insertContacts(owner.workspaceId, [
    { at: '2025-03-09T23:50:00Z', channel: 'instagram', email: 'subscribed' },
    { at: '2025-03-10T09:00:00Z', channel: 'instagram', campaign: 'spring', email: 'subscribed' },
    { at: '2025-03-10T10:00:00Z', channel: 'instagram', campaign: 'spring', email: 'pending' },
    { at: '2025-03-10T23:30:00Z', channel: 'facebook', email: 'subscribed' },
    { at: '2025-03-11T08:00:00Z', channel: 'whatsapp', campaign: 'vip', sms: 'subscribed' },
    { at: '2025-03-11T12:00:00Z', channel: null },
    { at: '2025-03-12T00:10:00Z', channel: 'tiktok', campaign: 'spring', email: 'pending' },
    { at: '2025-03-13T00:00:00Z', channel: 'instagram', email: 'subscribed' },
  ]);
  await insertEvents(owner.workspaceId, [
    { at: '2025-03-10T09:00:00Z', formId: giveaway, channel: 'instagram', campaign: 'spring', n: 4 },
    { at: '2025-03-10T23:30:00Z', formId: giveaway, channel: 'facebook', n: 2 },
    { at: '2025-03-11T08:00:00Z', formId: newsletter, channel: 'whatsapp', campaign: 'vip', n: 3 },
    // Not form views of this workspace: ignored.
    { at: '2025-03-11T09:00:00Z', formId: strangersForm, channel: 'instagram' },
    { at: '2025-03-11T09:00:00Z', formId: 'not-a-form', channel: 'instagram' },
    { at: '2025-03-11T09:00:00Z', type: 'page_view', formId: giveaway, channel: 'instagram' },
  ]);
  await insertSubmissions(owner.workspaceId, [
    { at: '2025-03-10T09:05:00Z', formId: giveaway, channel: 'instagram', campaign: 'spring' },
    { at: '2025-03-10T10:00:00Z', formId: giveaway, channel: 'instagram', campaign: 'spring' },
    { at: '2025-03-10T23:31:00Z', formId: giveaway, channel: 'facebook' },
    { at: '2025-03-11T08:01:00Z', formId: newsletter, channel: 'whatsapp', campaign: 'vip' },
  ]);
  // Rows written with past timestamps: a rebuild counts them whatever the watermarks say.
  await rollups.rebuildWorkspace(owner.workspaceId);
  await rollups.refresh();
  return { owner, giveaway, newsletter };
}

const day = (date: string, d: Partial<Record<'newContacts' | 'confirmed' | 'pending' | 'formViews' | 'submissions', number>>, byChannel: Record<string, number> = {}) => ({
  date,
  newContacts: 0,
  confirmed: 0,
  pending: 0,
  formViews: 0,
  submissions: 0,
  ...d,
  byChannel: Object.entries(byChannel).map(([channel, newContacts]) => ({ channel, newContacts })),
});

describe('analytics reports on a crafted data set', () => {
  let data: Awaited<ReturnType<typeof craftedWorkspace>>;
  beforeAll(async () => {
    data = await craftedWorkspace();
  });

  it('overview: new contacts per day by channel, confirmed vs pending, form conversion, top campaigns (UTC)', async () => {
    const res = await analytics(data.owner, 'overview', { from: '2025-03-10', to: '2025-03-12' }).expect(200);
    expect(res.body.range).toEqual({ from: '2025-03-10', to: '2025-03-12', tz: 'UTC' });
    expect(res.body.days).toEqual([
      day('2025-03-10', { newContacts: 3, confirmed: 2, pending: 1, formViews: 6, submissions: 3 }, { instagram: 2, facebook: 1 }),
      day('2025-03-11', { newContacts: 2, confirmed: 1, formViews: 3, submissions: 1 }, { unknown: 1, whatsapp: 1 }),
      day('2025-03-12', { newContacts: 1, pending: 1 }, { tiktok: 1 }),
    ]);
    expect(res.body.totals).toEqual({ newContacts: 6, confirmed: 3, pending: 2, formViews: 9, submissions: 4, confirmationRate: 50, conversionRate: 44.4 });
    expect(res.body.forms).toEqual([
      { formId: data.giveaway, name: 'Giveaway', formViews: 6, submissions: 3, conversionRate: 50 },
      { formId: data.newsletter, name: 'Newsletter', formViews: 3, submissions: 1, conversionRate: 33.3 },
    ]);
    expect(res.body.topCampaigns).toEqual([
      { campaign: 'spring', newContacts: 3, confirmed: 1, pending: 2, formViews: 4, submissions: 2, conversionRate: 50 },
      { campaign: 'vip', newContacts: 1, confirmed: 1, pending: 0, formViews: 3, submissions: 1, conversionRate: 33.3 },
    ]);
    expect(res.body.freshness).toEqual({ asOf: expect.any(String), lagSeconds: expect.any(Number), refreshedAt: expect.any(String), maxLagSeconds: 60 });
    expect(res.body.freshness.lagSeconds).toBeLessThanOrEqual(60);
  });

  it('sources: per channel and per campaign, with shares and rates', async () => {
    const res = await analytics(data.owner, 'sources', { from: '2025-03-10', to: '2025-03-12' }).expect(200);
    const ch = (channel: string, newContacts: number, confirmed: number, pending: number, formViews: number, submissions: number) => ({
      channel,
      newContacts,
      share: Math.round((newContacts / 6) * 1000) / 10,
      confirmed,
      pending,
      confirmationRate: newContacts ? Math.round((confirmed / newContacts) * 1000) / 10 : null,
      formViews,
      submissions,
      conversionRate: formViews ? Math.round((submissions / formViews) * 1000) / 10 : null,
    });
    expect(res.body.channels).toEqual([
      ch('instagram', 2, 1, 1, 4, 2),
      ch('facebook', 1, 1, 0, 2, 1),
      ch('whatsapp', 1, 1, 0, 3, 1),
      ch('tiktok', 1, 0, 1, 0, 0),
      ch('unknown', 1, 0, 0, 0, 0),
    ]);
    expect(res.body.channels[0]).toMatchObject({ share: 33.3, confirmationRate: 50, conversionRate: 50 });
    expect(res.body.campaigns.map((c: { campaign: string }) => c.campaign)).toEqual(['spring', 'vip']);
    expect(res.body.freshness.asOf).toEqual(expect.any(String));
  });

  it('counts days in the given time zone: 23:30 UTC is the next day in Berlin', async () => {
    const res = await analytics(data.owner, 'overview', { from: '2025-03-10', to: '2025-03-12', tz: 'Europe/Berlin' }).expect(200);
    expect(res.body.range.tz).toBe('Europe/Berlin');
    expect(res.body.days).toEqual([
      // 2025-03-09T23:50Z is 00:50 on the 10th in Berlin.
      day('2025-03-10', { newContacts: 3, confirmed: 2, pending: 1, formViews: 4, submissions: 2 }, { instagram: 3 }),
      // 23:30Z on the 10th: a facebook contact, two views and a submission, all on the 11th here.
      day('2025-03-11', { newContacts: 3, confirmed: 2, formViews: 5, submissions: 2 }, { facebook: 1, unknown: 1, whatsapp: 1 }),
      day('2025-03-12', { newContacts: 1, pending: 1 }, { tiktok: 1 }),
    ]);
  });

  it('is exact for zones offset by half and quarter hours, and west of UTC', async () => {
    // Midnight of the 12th is 18:30Z in Kolkata (+5:30) and 18:15Z in Kathmandu (+5:45).
    const owner = await newWorkspace(t);
    await insertContacts(owner.workspaceId, [
      { at: '2025-03-11T18:10:00Z', channel: 'whatsapp' },
      { at: '2025-03-11T18:20:00Z', channel: 'whatsapp' },
      { at: '2025-03-11T18:40:00Z', channel: 'whatsapp' },
    ]);
    await rollups.rebuildWorkspace(owner.workspaceId);
    const perDay = async (tz: string) => {
      const res = await analytics(owner, 'overview', { from: '2025-03-11', to: '2025-03-12', tz }).expect(200);
      return res.body.days.map((d: { date: string; newContacts: number }) => [d.date, d.newContacts]);
    };
    expect(await perDay('UTC')).toEqual([['2025-03-11', 3], ['2025-03-12', 0]]);
    expect(await perDay('Asia/Kolkata')).toEqual([['2025-03-11', 2], ['2025-03-12', 1]]);
    expect(await perDay('Asia/Kathmandu')).toEqual([['2025-03-11', 1], ['2025-03-12', 2]]);
    // UTC-10: the 11th there runs from 10:00Z on the 11th to 10:00Z on the 12th.
    const honolulu = await analytics(data.owner, 'overview', { from: '2025-03-11', to: '2025-03-11', tz: 'Pacific/Honolulu' }).expect(200);
    expect(honolulu.body.days).toEqual([day('2025-03-11', { newContacts: 2, pending: 1 }, { tiktok: 1, unknown: 1 })]);
  });

  it('fills a range without data with zero days', async () => {
    const res = await analytics(data.owner, 'overview', { from: '2024-01-30', to: '2024-02-02' }).expect(200);
    expect(res.body.days.map((d: { date: string }) => d.date)).toEqual(['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-02']);
    expect(res.body.totals).toEqual({ newContacts: 0, confirmed: 0, pending: 0, formViews: 0, submissions: 0, confirmationRate: null, conversionRate: null });
    expect(res.body.forms).toEqual([]);
  });

  it('follows status changes and erasure of contacts at the next refresh', async () => {
    const [id] = await t.sql<{ id: string }>(
      `SELECT id FROM contacts WHERE workspace_id = $1 AND created_at = '2025-03-10T10:00:00Z'`,
      [data.owner.workspaceId],
    );
    await t.sql(`UPDATE contacts SET email_status = 'subscribed' WHERE id = $1`, [id.id]);
    await rollups.refresh();
    let res = await analytics(data.owner, 'overview', { from: '2025-03-10', to: '2025-03-10' }).expect(200);
    expect(res.body.totals).toMatchObject({ newContacts: 3, confirmed: 3, pending: 0 });
    await t.http().delete(`/v1/workspaces/${data.owner.workspaceId}/contacts/${id.id}`).set(...bearer(data.owner.accessToken)).expect(204);
    await rollups.refresh();
    res = await analytics(data.owner, 'overview', { from: '2025-03-10', to: '2025-03-10' }).expect(200);
    expect(res.body.totals).toMatchObject({ newContacts: 2, confirmed: 2, pending: 0 });
    expect(res.body.days[0].byChannel).toEqual([
      { channel: 'facebook', newContacts: 1 },
      { channel: 'instagram', newContacts: 1 },
    ]);
  });
});

describe('rollups kept up to date from the live tables', () => {
  it('counts submissions and events as they arrive, through the public API', async () => {
    const owner = await newWorkspace(t);
    const form = await newForm(t, owner, { name: 'Live', minFillSeconds: 0 });
    const pk = (await createKey(t, owner, 'publishable')).key;
    const now = new Date().toISOString();
    await t
      .http()
      .post('/v1/public/events')
      .set(...bearer(pk))
      .send({
        events: Array.from({ length: 5 }, (_, i) => ({
          type: 'form_view',
          anonymousId: `anon_live_${i}_${randomUUID().slice(0, 8)}`,
          properties: { formId: form.id },
          context: { utm_source: 'ig', utm_campaign: 'launch' },
          occurredAt: now,
        })),
      })
      .expect(202);
    for (let i = 0; i < 2; i++) {
      await submit(t, form.id, { fields: { email: uniqueEmail('live') }, consent: { newsletter: true }, context: { utm_source: 'ig', utm_campaign: 'launch' } }).expect(201);
    }
    await refreshPast(Date.now());
    const res = await analytics(owner, 'overview').expect(200);
    expect(res.body.totals).toMatchObject({ newContacts: 2, confirmed: 2, formViews: 5, submissions: 2, conversionRate: 40 });
    expect(res.body.forms).toEqual([{ formId: form.id, name: 'Live', formViews: 5, submissions: 2, conversionRate: 40 }]);
    expect(res.body.topCampaigns).toEqual([{ campaign: 'launch', newContacts: 2, confirmed: 2, pending: 0, formViews: 5, submissions: 2, conversionRate: 40 }]);
    const sources = await analytics(owner, 'sources').expect(200);
    expect(sources.body.channels).toEqual([expect.objectContaining({ channel: 'instagram', newContacts: 2, share: 100, formViews: 5, submissions: 2 })]);
  });

  it('gives the same numbers as a direct count after many refreshes run at once, while rows keep arriving', async () => {
    const owner = await newWorkspace(t);
    const form = await newForm(t, owner, { name: 'Busy', minFillSeconds: 0 });
    const pk = (await createKey(t, owner, 'publishable')).key;
    const channels = ['instagram', 'facebook', 'whatsapp', 'tiktok'];
    const send = (round: number) =>
      t
        .http()
        .post('/v1/public/events')
        .set(...bearer(pk))
        .send({
          events: Array.from({ length: 20 }, (_, i) => ({
            type: i % 4 === 3 ? 'page_view' : 'form_view',
            anonymousId: `anon_busy_${round}_${i}`,
            properties: { formId: form.id },
            context: { utm_source: channels[(round + i) % 4], utm_campaign: `c${i % 3}` },
          })),
        })
        .expect(202);
    const writers = Array.from({ length: 6 }, async (_, round) => {
      await send(round);
      await submit(t, form.id, { fields: { email: uniqueEmail('busy') }, consent: { newsletter: true }, context: { utm_source: channels[round % 4] } }).expect(201);
    });
    const refreshers = Array.from({ length: 4 }, async (_, i) => {
      for (let k = 0; k < 3; k++) await rollups.refresh({ wait: i % 2 === 0 });
    });
    await Promise.all([...writers, ...refreshers, rollups.refresh(), rollups.refresh()]);
    const written = Date.now();
    await Promise.all([rollups.refresh(), rollups.refresh(), rollups.refresh({ wait: false })]);
    await refreshPast(written);

    const ws = owner.workspaceId;
    const [direct] = await t.sql<{ views: number; submissions: number; contacts: number }>(
      `SELECT (SELECT count(*)::int FROM events WHERE workspace_id = $1 AND type = 'form_view') AS views,
              (SELECT count(*)::int FROM submissions WHERE workspace_id = $1) AS submissions,
              (SELECT count(*)::int FROM contacts WHERE workspace_id = $1) AS contacts`,
      [ws],
    );
    expect(direct).toEqual({ views: 90, submissions: 6, contacts: 6 });
    // Every grain: the 15-minute rows, and the hourly and daily rows derived from them.
    for (const grain of [15, 60, 1440]) {
      const [rolled] = await t.sql<{ views: number; submissions: number; contacts: number; formViews: number; campaignViews: number }>(
        `SELECT (SELECT sum(form_views)::int FROM analytics_channel_stats WHERE workspace_id = $1 AND grain = $2) AS views,
                (SELECT sum(submissions)::int FROM analytics_channel_stats WHERE workspace_id = $1 AND grain = $2) AS submissions,
                (SELECT sum(new_contacts)::int FROM analytics_channel_stats WHERE workspace_id = $1 AND grain = $2) AS contacts,
                (SELECT sum(form_views)::int FROM analytics_form_stats WHERE workspace_id = $1 AND grain = $2) AS "formViews",
                (SELECT sum(form_views)::int FROM analytics_campaign_stats WHERE workspace_id = $1 AND grain = $2) AS "campaignViews"`,
        [ws, grain],
      );
      expect({ grain, ...rolled }).toEqual({ grain, ...direct, formViews: 90, campaignViews: 90 });
    }
    const byChannel = await t.sql<{ channel: string; direct: number; rolled: number }>(
      `SELECT e.channel, e.n AS direct, COALESCE(s.n, 0) AS rolled
         FROM (SELECT channel, count(*)::int AS n FROM events WHERE workspace_id = $1 AND type = 'form_view' GROUP BY channel) e
         LEFT JOIN (SELECT channel, sum(form_views)::int AS n FROM analytics_channel_stats WHERE workspace_id = $1 AND grain = 15 GROUP BY channel) s USING (channel)`,
      [ws],
    );
    expect(byChannel).toHaveLength(4);
    for (const row of byChannel) expect(row.rolled).toBe(row.direct);
    const res = await analytics(owner, 'overview').expect(200);
    expect(res.body.totals).toMatchObject({ newContacts: 6, formViews: 90, submissions: 6 });
  });

  it('a refresh that finds another one running can skip instead of waiting', async () => {
    const ds = t.app.get((await import('typeorm')).DataSource);
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`SELECT 1 FROM analytics_watermarks FOR UPDATE`);
      expect(await rollups.refresh({ wait: false })).toEqual({ skipped: true });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await rollups.refresh({ wait: false })).toMatchObject({ skipped: false });
  });
});

describe('analytics access and input', () => {
  it('any member reads, viewers and viewer keys included', async () => {
    const owner = await newWorkspace(t);
    const viewer = await addMember(t, owner, 'viewer');
    await analytics(owner, 'overview', {}, viewer.accessToken).expect(200);
    await analytics(owner, 'sources', {}, viewer.accessToken).expect(200);
    const key = await createKey(t, owner, 'secret', 'viewer');
    await analytics(owner, 'overview', {}, key.key).expect(200);
    await analytics(owner, 'sources', {}, key.key).expect(200);
    await t.http().get(`/v1/workspaces/${owner.workspaceId}/analytics/overview`).expect(401);
  });

  it("is isolated: another workspace's token or key gets 404", async () => {
    const { owner } = await craftedWorkspace();
    const other = await newWorkspace(t, 'other');
    const otherKey = await createKey(t, other, 'secret', 'admin');
    for (const credential of [other.accessToken, otherKey.key]) {
      for (const report of ['overview', 'sources'] as const) {
        const res = await analytics(owner, report, { from: '2025-03-10', to: '2025-03-12' }, credential);
        expect({ report, status: res.status }).toEqual({ report, status: 404 });
      }
    }
    // Their own reports do not include our numbers.
    const own = await analytics(other, 'overview', { from: '2025-03-10', to: '2025-03-12' }).expect(200);
    expect(own.body.totals.newContacts).toBe(0);
    expect(own.body.forms).toEqual([]);
    const sources = await analytics(other, 'sources', { from: '2025-03-10', to: '2025-03-12' }).expect(200);
    expect(sources.body.channels).toEqual([]);
  });

  it('rejects bad dates, ranges, time zones and unknown parameters', async () => {
    const owner = await newWorkspace(t);
    const cases: [Record<string, string>, string][] = [
      [{ tz: 'Mars/Olympus_Mons' }, 'tz'],
      [{ tz: '+01:00' }, 'tz'],
      [{ tz: "Europe/Berlin'; DROP TABLE contacts; --" }, 'tz'],
      [{ from: '2025-02-30' }, 'from'],
      [{ from: '10/03/2025' }, 'from'],
      [{ to: '2025-13-01' }, 'to'],
      [{ from: '2025-03-12', to: '2025-03-10' }, 'from'],
      [{ from: '2023-01-01', to: '2025-01-01' }, 'to'],
      [{ limit: '5' }, 'limit'],
    ];
    for (const [query, field] of cases) {
      const res = await analytics(owner, 'overview', query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expectProblem(res.body, 400, 'validation_failed');
      expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
    }
    await analytics(owner, 'sources', { tz: 'Nowhere/Land' }).expect(400);
    await analytics(owner, 'overview', { from: '2024-01-01', to: '2024-12-31', tz: 'america/new_york' }).expect(200);
  });
});

describe('freshness', () => {
  // Moving the watermark back re-counts the last ten minutes' traffic: no test after this one relies on it.
  it('a read finding the rollups more than a minute old refreshes them first', async () => {
    const owner = await newWorkspace(t);
    await t.sql(`UPDATE analytics_watermarks SET processed_to = now() - interval '10 minutes'`);
    const res = await analytics(owner, 'overview').expect(200);
    expect(res.body.freshness.lagSeconds).toBeLessThanOrEqual(5);
    expect(Date.parse(res.body.freshness.asOf)).toBeGreaterThan(Date.now() - 60_000);
  });
});
