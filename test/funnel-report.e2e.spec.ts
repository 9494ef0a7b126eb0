import { bearer, newWorkspace, type Session } from './support/factories.js';
import { funnelPath, newFunnel, type FunnelBody } from './support/funnels.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

interface Entry {
  stage: string;
  at: string;
}

const PREVIOUS: Record<string, string | undefined> = { confirmed: 'lead', customer: 'confirmed' };

/**
 * A contact with a first-touch channel, stage entries at known times (each entry's time from the
 * previous stage when it came from there, as the engine stores it), and a current stage (the last entry).
 */
async function craft(ws: Session, funnel: FunnelBody, channel: string | null, entries: Entry[], app: TestApp = t): Promise<string> {
  const [contact] = await app.sql<{ id: string }>(
    `INSERT INTO contacts (workspace_id, email, first_channel) VALUES ($1, $2, $3) RETURNING id`,
    [ws.workspaceId, `c-${Math.random().toString(36).slice(2)}@example.com`, channel],
  );
  const stageId = (key: string) => funnel.stages.find((s) => s.key === key)?.id;
  let before: Entry | null = null;
  for (const e of entries) {
    const seconds = before && PREVIOUS[e.stage] === before.stage ? (Date.parse(e.at) - Date.parse(before.at)) / 1000 : null;
    await app.sql(
      `INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, entered_at, source, reason, channel, seconds_from_previous, first_entry)
       VALUES ($1, $2, $3, $4, $5, 'manual', 'crafted', $6, $7, true)`,
      [ws.workspaceId, funnel.id, contact.id, stageId(e.stage), e.at, channel, seconds],
    );
    before = e;
  }
  const last = entries[entries.length - 1];
  await app.sql(
    `INSERT INTO funnel_contacts (workspace_id, funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [ws.workspaceId, funnel.id, contact.id, stageId(last.stage), channel, last.at, entries[0].at],
  );
  return contact.id;
}

const summary = (stages: { key: string; entered: number; currentlyIn: number; stepConversionPct: number | null; overallConversionPct: number | null; medianSecondsFromPrevious: number | null }[]) =>
  stages.map((s) => [s.key, s.entered, s.currentlyIn, s.stepConversionPct, s.overallConversionPct, s.medianSecondsFromPrevious]);

describe('funnel report', () => {
  it('counts entries, who is still there, conversions and medians on a crafted data set, by channel', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    // Window: January 2026.
    await craft(ws, funnel, 'instagram', [
      { stage: 'lead', at: '2026-01-05T10:00:00Z' },
      { stage: 'confirmed', at: '2026-01-05T11:00:00Z' }, // 3600 s
      { stage: 'customer', at: '2026-01-06T11:00:00Z' }, // 86400 s
    ]);
    await craft(ws, funnel, 'instagram', [
      { stage: 'lead', at: '2026-01-10T00:00:00Z' },
      { stage: 'confirmed', at: '2026-01-10T00:30:00Z' }, // 1800 s
    ]);
    await craft(ws, funnel, 'facebook', [{ stage: 'lead', at: '2026-01-12T00:00:00Z' }]);
    await craft(ws, funnel, 'facebook', [
      { stage: 'lead', at: '2026-01-15T00:00:00Z' },
      { stage: 'confirmed', at: '2026-01-15T02:00:00Z' }, // 7200 s
      { stage: 'customer', at: '2026-01-15T03:00:00Z' }, // 3600 s
    ]);
    await craft(ws, funnel, 'facebook', [{ stage: 'lead', at: '2026-01-20T00:00:00Z' }]);
    // Lead before the window, confirmed inside it: 13 days from the previous stage.
    await craft(ws, funnel, 'whatsapp', [
      { stage: 'lead', at: '2025-12-20T00:00:00Z' },
      { stage: 'confirmed', at: '2026-01-02T00:00:00Z' }, // 1123200 s
    ]);
    // After the window: not counted.
    await craft(ws, funnel, 'instagram', [{ stage: 'lead', at: '2026-02-03T00:00:00Z' }]);

    const report = (q: string) =>
      t.http().get(funnelPath(ws, `/${funnel.id}/report?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z${q}`)).set(...bearer(ws.accessToken)).expect(200);
    const all = await report('&groupBy=channel');
    expect(all.body).toMatchObject({ funnelId: funnel.id, from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', tz: 'UTC', groupBy: 'channel', channel: null, skippedStagesCount: true });
    expect(summary(all.body.stages)).toEqual([
      ['lead', 5, 2, null, 100, null],
      ['confirmed', 4, 2, 80, 80, 5400],
      ['customer', 2, 2, 50, 40, 45000],
    ]);
    expect(all.body.groups.map((g: { key: string }) => g.key)).toEqual(['facebook', 'instagram', 'whatsapp']);
    const group = (key: string) => summary(all.body.groups.find((g: { key: string }) => g.key === key).stages);
    expect(group('instagram')).toEqual([
      ['lead', 2, 0, null, 100, null],
      ['confirmed', 2, 1, 100, 100, 2700],
      ['customer', 1, 1, 50, 50, 86400],
    ]);
    expect(group('facebook')).toEqual([
      ['lead', 3, 2, null, 100, null],
      ['confirmed', 1, 0, 33.33, 33.33, 7200],
      ['customer', 1, 1, 100, 33.33, 3600],
    ]);
    expect(group('whatsapp')).toEqual([
      ['lead', 0, 0, null, null, null],
      ['confirmed', 1, 1, null, null, 1123200],
      ['customer', 0, 0, 0, null, null],
    ]);

    const instagram = await report('&channel=instagram');
    expect(summary(instagram.body.stages)).toEqual(group('instagram'));
    expect(instagram.body.groups).toEqual([]);

    // Without a window: the last 30 days, where nothing happened.
    const recent = await t.http().get(funnelPath(ws, `/${funnel.id}/report`)).set(...bearer(ws.accessToken)).expect(200);
    expect(recent.body.stages.map((s: { entered: number }) => s.entered)).toEqual([0, 0, 0]);
  });

  it('counts a window that starts and ends inside a day exactly (whole days from the daily rollup, the ends from 15-minute slots)', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    await craft(ws, funnel, 'instagram', [
      { stage: 'lead', at: '2026-01-05T10:00:00Z' }, // before the window
      { stage: 'confirmed', at: '2026-01-05T11:00:00Z' }, // first partial day: in
      { stage: 'customer', at: '2026-01-08T12:00:00Z' }, // whole day: in
    ]);
    await craft(ws, funnel, 'facebook', [
      { stage: 'lead', at: '2026-01-09T20:00:00Z' }, // last partial day: in
      { stage: 'confirmed', at: '2026-01-09T21:00:00Z' }, // at the end of the window: out
    ]);
    const res = await t
      .http()
      .get(funnelPath(ws, `/${funnel.id}/report?from=2026-01-05T10:30:00Z&to=2026-01-09T21:00:00Z`))
      .set(...bearer(ws.accessToken))
      .expect(200);
    expect(summary(res.body.stages)).toEqual([
      ['lead', 1, 0, null, 100, null],
      ['confirmed', 1, 0, 100, 100, 3600],
      ['customer', 1, 1, 100, 100, 262800],
    ]);
    expect(res.body.medianSampleShare).toBe(1);
  });

  it('takes medians from a deterministic sample of contacts above the exact limit, and says so', async () => {
    const sampled = await createTestApp({ REPORT_MEDIAN_EXACT_LIMIT: 8 });
    try {
      const ws = await newWorkspace(sampled);
      const funnel = await newFunnel(sampled, ws);
      for (let i = 0; i < 40; i++) {
        await craft(ws, funnel, 'instagram', [
          { stage: 'lead', at: '2026-01-05T00:00:00Z' },
          { stage: 'confirmed', at: new Date(Date.parse('2026-01-05T00:00:00Z') + (i + 1) * 60_000).toISOString() },
        ], sampled);
      }
      const res = await sampled
        .http()
        .get(funnelPath(ws, `/${funnel.id}/report?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`))
        .set(...bearer(ws.accessToken))
        .expect(200);
      // 40 timed entries, limit 8: 13 of the 64 samples (ceil(64 * 8 / 40)).
      expect(res.body.medianSampleShare).toBe(13 / 64);
      const [expected] = await sampled.sql<{ median: number }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_from_previous) AS median FROM funnel_stage_history
          WHERE funnel_id = $1 AND seconds_from_previous IS NOT NULL AND sample < 13`,
        [funnel.id],
      );
      expect(res.body.stages.map((s: { entered: number }) => s.entered)).toEqual([40, 40, 0]);
      expect(res.body.stages[1].medianSecondsFromPrevious).toBe(expected.median);
    } finally {
      await sampled.close();
    }
  });

  it('puts each entry on its calendar day in the time zone asked for', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    await craft(ws, funnel, 'tiktok', [{ stage: 'lead', at: '2026-03-10T23:30:00Z' }]);
    await craft(ws, funnel, 'tiktok', [{ stage: 'lead', at: '2026-03-10T12:00:00Z' }]);
    const days = async (tz: string) => {
      const res = await t
        .http()
        .get(funnelPath(ws, `/${funnel.id}/report?from=2026-03-09T00:00:00Z&to=2026-03-13T00:00:00Z&groupBy=day&tz=${encodeURIComponent(tz)}`))
        .set(...bearer(ws.accessToken))
        .expect(200);
      return res.body.groups.map((g: { key: string; stages: { entered: number }[] }) => [g.key, g.stages[0].entered]);
    };
    expect(await days('Europe/Berlin')).toEqual([['2026-03-10', 1], ['2026-03-11', 1]]);
    expect(await days('UTC')).toEqual([['2026-03-10', 2]]);
    expect(await days('America/New_York')).toEqual([['2026-03-10', 2]]);
    expect(await days('Asia/Tokyo')).toEqual([['2026-03-10', 1], ['2026-03-11', 1]]);
  });

  it('refuses bad parameters with the field named', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const bad = async (q: string, field: string) => {
      const res = await t.http().get(funnelPath(ws, `/${funnel.id}/report?${q}`)).set(...bearer(ws.accessToken)).expect(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
    };
    await bad('tz=Mars/Olympus', 'tz');
    await bad(`tz=${encodeURIComponent('+01:00')}`, 'tz');
    await bad('groupBy=week', 'groupBy');
    await bad('channel=myspace', 'channel');
    await bad('from=yesterday', 'from');
    await bad('from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from');
    await bad('from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&groupBy=day', 'from');
    await bad('colour=red', 'colour');
  });

  it('documents how skipped stages count', async () => {
    const res = await t.http().get('/docs/openapi.json').expect(200);
    const op = res.body.paths['/v1/workspaces/{workspaceId}/funnels/{funnelId}/report'].get;
    expect(op.description).toMatch(/Skipped stages/);
  });
});
