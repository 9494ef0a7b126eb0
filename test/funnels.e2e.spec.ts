import { randomUUID } from 'node:crypto';
import { DomainEventsService } from '../src/domain-events/domain-events.service.js';
import { FunnelEngineRepository } from '../src/funnels/funnel-engine.repository.js';
import { FunnelEngineService } from '../src/funnels/funnel-engine.service.js';
import { addMember, bearer, createKey, expectProblem, newWorkspace, type Session } from './support/factories.js';
import { newForm, submit } from './support/forms.js';
import {
  asCountWriter,
  countLockWaited,
  countsOf,
  emailOpened,
  funnelPath,
  historyOf,
  newFunnel,
  newLead,
  queueQuietly,
  type QueuedEvent,
  quietContact,
  recordEvents,
  requeue,
  settle,
  stageOf,
  THREE_STAGES,
} from './support/funnels.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ SUBMISSION_LIMIT_PER_IP: 10_000 });
});
afterAll(() => t.close());

const track = (key: string, events: unknown[]) => t.http().post('/v1/public/events').set(...bearer(key)).send({ events }).expect(202);

describe('funnels admin', () => {
  it('creates, reads, lists; an edit archives removed stages, keeps history, and a returning key revives its stage', async () => {
    const ws = await newWorkspace(t);
    const form = await newForm(t, ws);
    const funnel = await newFunnel(t, ws, { description: 'From the bio link' });
    expect(funnel).toMatchObject({ version: 1, status: 'active', skippedStagesCount: true, description: 'From the bio link' });
    expect(funnel.stages.map((s) => s.key)).toEqual(['lead', 'confirmed', 'customer']);
    const lead = await newLead(t, form.id);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, funnel.id, lead.id)).toBe('lead');

    const leadStage = funnel.stages[0];
    const edited = await t
      .http()
      .patch(funnelPath(ws, `/${funnel.id}`))
      .set(...bearer(ws.accessToken))
      .send({ stages: [{ key: 'customer', name: 'Paying customer', position: 30, rules: [{ event: 'payment.succeeded' }] }] })
      .expect(200);
    expect(edited.body).toMatchObject({ version: 2, stages: [{ key: 'customer', name: 'Paying customer', id: funnel.stages[2].id }] });
    expect(edited.body.archivedStages.map((s: { key: string }) => s.key).sort()).toEqual(['confirmed', 'lead']);
    // History and the current stage still point at the archived stage.
    expect(await historyOf(t, funnel.id, lead.id)).toEqual([{ key: 'lead', source: 'rule', event_type: 'form.submitted' }]);
    const list = await t.http().get(funnelPath(ws, `/${funnel.id}/contacts?stage=lead`)).set(...bearer(ws.accessToken)).expect(200);
    expect(list.body.data).toEqual([expect.objectContaining({ contactId: lead.id, stage: expect.objectContaining({ key: 'lead', archived: true }) })]);

    const revived = await t.http().patch(funnelPath(ws, `/${funnel.id}`)).set(...bearer(ws.accessToken)).send({ stages: THREE_STAGES, name: 'Renamed' }).expect(200);
    expect(revived.body).toMatchObject({ version: 3, name: 'Renamed', archivedStages: [] });
    expect(revived.body.stages[0].id).toBe(leadStage.id);

    const page = await t.http().get(funnelPath(ws)).set(...bearer(ws.accessToken)).expect(200);
    expect(page.body.data.map((f: { id: string }) => f.id)).toEqual([funnel.id]);
    expect((await t.http().get(funnelPath(ws, '?status=paused')).set(...bearer(ws.accessToken)).expect(200)).body.data).toEqual([]);
    await t.http().get(funnelPath(ws, `/${funnel.id}`)).set(...bearer(ws.accessToken)).expect(200);
  });

  it("keeps stage entries to the funnel's own stages, and they go with the funnel", async () => {
    const ws = await newWorkspace(t);
    const [one, other] = [await newFunnel(t, ws), await newFunnel(t, ws)];
    const lead = await quietContact(t, ws.workspaceId, 'stage-keys');
    const insertEntry = (funnelId: string, stageId: string) =>
      t.sql(`INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, entered_at, source) VALUES ($1, $2, $3, $4, now(), 'skip')`, [
        ws.workspaceId,
        funnelId,
        lead,
        stageId,
      ]);
    const insertCurrent = (funnelId: string, stageId: string) =>
      t.sql(`INSERT INTO funnel_contacts (workspace_id, funnel_id, contact_id, stage_id, entered_at, funnel_entered_at) VALUES ($1, $2, $3, $4, now(), now())`, [
        ws.workspaceId,
        funnelId,
        lead,
        stageId,
      ]);
    // A stage of another funnel is refused in both tables (foreign key violation).
    await expect(insertEntry(one.id, other.stages[0].id)).rejects.toMatchObject({ code: '23503' });
    await expect(insertCurrent(one.id, other.stages[0].id)).rejects.toMatchObject({ code: '23503' });
    await insertEntry(one.id, one.stages[0].id);
    await insertCurrent(one.id, one.stages[0].id);
    // Deleting the funnel (as deleting its workspace does) takes its stages and everything in them.
    await t.sql(`DELETE FROM funnels WHERE id = $1`, [one.id]);
    expect(await t.sql(`SELECT 1 FROM funnel_stage_history WHERE contact_id = $1 UNION ALL SELECT 1 FROM funnel_contacts WHERE contact_id = $1`, [lead])).toEqual([]);
  });

  it('refuses unusable definitions, naming each problem', async () => {
    const ws = await newWorkspace(t);
    const other = await newWorkspace(t, 'other');
    const theirForm = await newForm(t, other);
    const post = (body: Record<string, unknown>) => t.http().post(funnelPath(ws)).set(...bearer(ws.accessToken)).send({ name: 'F', stages: THREE_STAGES, ...body });
    expect((await post({ colour: 'red' }).expect(400)).body.errors).toEqual([{ field: 'colour', message: 'unknown field' }]);
    await post({ stages: [] }).expect(400);
    await post({ stages: [{ key: 'Lead!', name: 'x', position: 1 }] }).expect(400);
    await post({ stages: [{ key: 'lead', name: 'x', position: 1, rules: [{ event: 'page_view', filter: { colour: 'red' } }] }] }).expect(400);
    await post({ stages: [{ key: 'lead', name: 'x', position: 1, rules: [{ event: 'page_view', filter: { property: { name: 'a', equals: { nested: 1 } } } }] }] }).expect(400);
    const dup = await post({ stages: [THREE_STAGES[0], { ...THREE_STAGES[1], key: 'lead' }] }).expect(400);
    expect(dup.body.errors).toEqual([{ field: 'stages.1.key', message: 'duplicate stage key "lead"' }]);
    const never = await post({ stages: [{ key: 'lead', name: 'x', position: 1, rules: [{ event: 'page_view', filter: { tag: 'vip' } }] }] }).expect(400);
    expect(never.body.errors).toEqual([expect.objectContaining({ field: 'stages.0.rules.0.filter.tag' })]);
    // Another workspace's form id is not a form here.
    const foreign = await post({ stages: [{ key: 'lead', name: 'x', position: 1, rules: [{ event: 'form.submitted', filter: { formId: theirForm.id } }] }] }).expect(400);
    expect(foreign.body.errors).toEqual([{ field: 'stages.0.rules.0.filter.formId', message: 'no form with this id in this workspace' }]);
    expect((await t.sql(`SELECT 1 FROM funnels WHERE workspace_id = $1`, [ws.workspaceId])).length).toBe(0);
  });

  it('deletes a funnel nobody entered; one with history must be archived instead', async () => {
    const ws = await newWorkspace(t);
    const empty = await newFunnel(t, ws);
    await t.http().delete(funnelPath(ws, `/${empty.id}`)).set(...bearer(ws.accessToken)).expect(204);
    await t.http().get(funnelPath(ws, `/${empty.id}`)).set(...bearer(ws.accessToken)).expect(404);
    const used = await newFunnel(t, ws);
    await newLead(t, (await newForm(t, ws)).id);
    await settle(t, ws.workspaceId);
    expectProblem((await t.http().delete(funnelPath(ws, `/${used.id}`)).set(...bearer(ws.accessToken)).expect(409)).body, 409, 'funnel_has_history');
    await t.http().patch(funnelPath(ws, `/${used.id}`)).set(...bearer(ws.accessToken)).send({ status: 'archived' }).expect(200);
  });
});

interface Ctx {
  ws: Session;
  formF: string;
  formG: string;
  pk: string;
  sk: string;
  anonymousId: string;
  contactId: string;
  email: string;
}

interface EntryCase {
  name: string;
  rule: (ctx: Ctx) => Record<string, unknown>;
  miss: (ctx: Ctx) => Promise<void>;
  hit: (ctx: Ctx) => Promise<void>;
}

const patchTags = (ctx: Ctx, addTags: string[]) =>
  t.http().patch(`/v1/workspaces/${ctx.ws.workspaceId}/contacts/${ctx.contactId}`).set(...bearer(ctx.ws.accessToken)).send({ addTags }).expect(200);

async function confirmationLink(submissionId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const [message] = await t.sql<{ body: string; status: string }>(`SELECT body, status FROM messages WHERE dedupe_key = $1`, [`double_opt_in:${submissionId}`]);
    const token = /\/v1\/public\/confirm\/(cf_[\w-]+)/.exec(message?.body ?? '')?.[1];
    if (message?.status === 'sent' && token) return token;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no confirmation email');
}

const ENTRY_CASES: EntryCase[] = [
  {
    name: 'page_view with a URL filter (an anonymous visitor stitched to the contact)',
    rule: () => ({ event: 'page_view', filter: { urlContains: '/pricing' } }),
    miss: (c) => track(c.pk, [{ type: 'page_view', anonymousId: c.anonymousId, context: { url: 'https://shop.example/about' } }]).then(() => undefined),
    hit: (c) => track(c.pk, [{ type: 'page_view', anonymousId: c.anonymousId, context: { url: 'https://shop.example/Pricing?plan=pro' } }]).then(() => undefined),
  },
  {
    name: 'form.submitted with a form filter',
    rule: (c) => ({ event: 'form.submitted', filter: { formId: c.formF } }),
    miss: (c) => submit(t, c.formG, { fields: { email: c.email }, consent: { newsletter: true } }).expect(201).then(() => undefined),
    hit: (c) => submit(t, c.formF, { fields: { email: c.email }, consent: { newsletter: true } }).expect(201).then(() => undefined),
  },
  {
    name: 'tag.added by the API with a tag filter',
    rule: () => ({ event: 'tag.added', filter: { tag: 'vip' } }),
    miss: (c) => patchTags(c, ['other']).then(() => undefined),
    hit: (c) => patchTags(c, ['vip']).then(() => undefined),
  },
  {
    name: 'tag.added by a form (its tags) with tag and form filters',
    rule: (c) => ({ event: 'tag.added', filter: { tag: 'giveaway', formId: c.formF } }),
    miss: (c) => patchTags(c, ['giveaway-2']).then(() => undefined),
    hit: (c) => submit(t, c.formF, { fields: { email: c.email }, consent: { newsletter: true } }).expect(201).then(() => undefined),
  },
  {
    name: 'contact.confirmed (double opt-in) with a form filter',
    rule: (c) => ({ event: 'contact.confirmed', filter: { formId: c.formF } }),
    miss: async (c) => {
      await t.http().patch(`/v1/workspaces/${c.ws.workspaceId}/forms/${c.formF}`).set(...bearer(c.ws.accessToken)).send({ doubleOptIn: true }).expect(200);
      const res = await submit(t, c.formF, { fields: { email: c.email }, consent: { newsletter: true } }).expect(202);
      (c as Ctx & { submissionId?: string }).submissionId = res.body.submissionId;
    },
    hit: async (c) => {
      const token = await confirmationLink((c as Ctx & { submissionId: string }).submissionId);
      await t.http().get(`/v1/public/confirm/${token}`).expect(200);
    },
  },
  {
    name: 'email.opened (the messaging hook)',
    rule: () => ({ event: 'email.opened' }),
    miss: (c) => recordEvents(t, c.ws.workspaceId, [{ type: 'email.clicked', contactId: c.contactId, properties: { messageId: 'm1', url: 'https://x' }, dedupeKey: `click:${randomUUID()}` }]).then(() => undefined),
    hit: (c) => recordEvents(t, c.ws.workspaceId, [emailOpened(c.contactId)]).then(() => undefined),
  },
  {
    name: 'email.clicked with a URL filter',
    rule: () => ({ event: 'email.clicked', filter: { urlContains: 'offer' } }),
    miss: (c) => recordEvents(t, c.ws.workspaceId, [{ type: 'email.clicked', contactId: c.contactId, properties: { messageId: 'm1', url: 'https://x/blog' }, dedupeKey: 'c1' }]).then(() => undefined),
    hit: (c) => recordEvents(t, c.ws.workspaceId, [{ type: 'email.clicked', contactId: c.contactId, properties: { messageId: 'm1', url: 'https://x/offer' }, dedupeKey: 'c2' }]).then(() => undefined),
  },
  {
    name: 'sms.replied with a property filter',
    rule: () => ({ event: 'sms.replied', filter: { property: { name: 'keyword', equals: 'YES' } } }),
    miss: (c) => recordEvents(t, c.ws.workspaceId, [{ type: 'sms.replied', contactId: c.contactId, properties: { keyword: 'NO' }, dedupeKey: 'sms1' }]).then(() => undefined),
    hit: (c) => recordEvents(t, c.ws.workspaceId, [{ type: 'sms.replied', contactId: c.contactId, properties: { keyword: 'YES' }, dedupeKey: 'sms2' }]).then(() => undefined),
  },
  {
    name: 'payment.succeeded sent by a server with a secret key (a publishable key cannot fake it)',
    rule: () => ({ event: 'payment.succeeded', filter: { property: { name: 'amount', equals: 49 } } }),
    miss: async (c) => {
      await track(c.sk, [{ type: 'payment.succeeded', contactId: c.contactId, properties: { amount: 10 } }]);
      await track(c.pk, [{ type: 'payment.succeeded', anonymousId: c.anonymousId, properties: { amount: 49 } }]);
    },
    hit: (c) => track(c.sk, [{ type: 'payment.succeeded', contactId: c.contactId, properties: { amount: 49 } }]).then(() => undefined),
  },
  {
    name: 'a custom event with a property filter',
    rule: () => ({ event: 'demo_booked', filter: { property: { name: 'plan', equals: 'pro' } } }),
    miss: (c) => track(c.pk, [{ type: 'demo_booked', anonymousId: c.anonymousId, properties: { plan: 'basic' } }]).then(() => undefined),
    hit: (c) => track(c.pk, [{ type: 'demo_booked', anonymousId: c.anonymousId, properties: { plan: 'pro' } }]).then(() => undefined),
  },
];

describe('stage entry by rules', () => {
  it.each(ENTRY_CASES.map((c) => [c.name, c] as const))('%s', async (_, entry) => {
    const ws = await newWorkspace(t);
    const formF = (await newForm(t, ws, { tags: ['giveaway'] })).id;
    const formG = (await newForm(t, ws, { tags: ['gtag'] })).id;
    const anonymousId = `anon_${randomUUID()}`;
    const lead = await newLead(t, formG, { anonymousId });
    const ctx: Ctx = {
      ws,
      formF,
      formG,
      pk: (await createKey(t, ws, 'publishable')).key,
      sk: (await createKey(t, ws, 'secret', 'marketer')).key,
      anonymousId,
      contactId: lead.id,
      email: lead.email,
    };
    const funnel = await newFunnel(t, ws, { stages: [{ key: 'hit', name: 'Hit', position: 1, rules: [entry.rule(ctx)] }] });
    await entry.miss(ctx);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, funnel.id, lead.id)).toBeNull();
    await entry.hit(ctx);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, funnel.id, lead.id)).toBe('hit');
    const history = await historyOf(t, funnel.id, lead.id);
    expect(history).toEqual([{ key: 'hit', source: 'rule', event_type: entry.rule(ctx).event }]);
    // Other modules hear about it.
    const changed = await t.sql<{ properties: Record<string, unknown> }>(
      `SELECT properties FROM domain_events WHERE workspace_id = $1 AND type = 'contact.stage_changed'`,
      [ws.workspaceId],
    );
    expect(changed.map((c) => c.properties)).toEqual([{ funnelId: funnel.id, stageId: funnel.stages[0].id, stageKey: 'hit', fromStageId: null, source: 'rule' }]);
  });

  it('records a tag once: a second submission with the same form tags adds none', async () => {
    const ws = await newWorkspace(t);
    const form = await newForm(t, ws, { tags: ['giveaway', 'spring'] });
    const lead = await newLead(t, form.id);
    await submit(t, form.id, { fields: { email: lead.email }, consent: { newsletter: true } }).expect(201);
    const tags = await t.sql<{ tag: string }>(`SELECT properties->>'tag' AS tag FROM domain_events WHERE contact_id = $1 AND type = 'tag.added' ORDER BY 1`, [lead.id]);
    expect(tags.map((r) => r.tag)).toEqual(['giveaway', 'spring']);
    const submitted = await t.sql(`SELECT 1 FROM domain_events WHERE contact_id = $1 AND type = 'form.submitted'`, [lead.id]);
    expect(submitted).toHaveLength(2);
  });

  it('counts skipped stages as passed only when the funnel says so', async () => {
    const ws = await newWorkspace(t);
    const counting = await newFunnel(t, ws, { name: 'counts', skippedStagesCount: true });
    const strict = await newFunnel(t, ws, { name: 'strict', skippedStagesCount: false });
    const sk = (await createKey(t, ws, 'secret', 'marketer')).key;
    const lead = await newLead(t, (await newForm(t, ws)).id);
    await track(sk, [{ type: 'payment.succeeded', contactId: lead.id, properties: { amount: 10 } }]);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, counting.id, lead.id)).toBe('customer');
    expect(await stageOf(t, strict.id, lead.id)).toBe('customer');
    expect(await historyOf(t, counting.id, lead.id)).toEqual([
      { key: 'lead', source: 'rule', event_type: 'form.submitted' },
      { key: 'confirmed', source: 'skip', event_type: 'payment.succeeded' },
      { key: 'customer', source: 'rule', event_type: 'payment.succeeded' },
    ]);
    expect(await historyOf(t, strict.id, lead.id)).toEqual([
      { key: 'lead', source: 'rule', event_type: 'form.submitted' },
      { key: 'customer', source: 'rule', event_type: 'payment.succeeded' },
    ]);
    const report = async (id: string) =>
      (await t.http().get(funnelPath(ws, `/${id}/report`)).set(...bearer(ws.accessToken)).expect(200)).body.stages.map((s: { entered: number }) => s.entered);
    expect(await report(counting.id)).toEqual([1, 1, 1]);
    expect(await report(strict.id)).toEqual([1, 0, 1]);
    // Times as the engine stored them: the skipped stage took the time from lead to payment, the step after it none.
    const [{ seconds }] = await t.sql<{ seconds: number }>(
      `SELECT extract(epoch FROM max(entered_at) - min(entered_at))::float8 AS seconds FROM funnel_stage_history WHERE funnel_id = $1 AND contact_id = $2`,
      [counting.id, lead.id],
    );
    const medians = await t.http().get(funnelPath(ws, `/${counting.id}/report?groupBy=channel`)).set(...bearer(ws.accessToken)).expect(200);
    expect(medians.body.stages.map((s: { medianSecondsFromPrevious: number | null }) => s.medianSecondsFromPrevious)).toEqual([null, seconds, 0]);
    expect(medians.body.groups.map((g: { key: string }) => g.key)).toEqual(['direct']);
    // A later event for an earlier stage does not move anyone back.
    await submit(t, (await newForm(t, ws)).id, { fields: { email: lead.email }, consent: { newsletter: true } }).expect(201);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, counting.id, lead.id)).toBe('customer');
    expect(await historyOf(t, counting.id, lead.id)).toHaveLength(3);
  });

  it('refreshes rules another process changed (version check), and ignores paused funnels', async () => {
    const ws = await newWorkspace(t);
    const pk = (await createKey(t, ws, 'publishable')).key;
    const anonymousId = `anon_${randomUUID()}`;
    const lead = await newLead(t, (await newForm(t, ws)).id, { anonymousId });
    const funnel = await newFunnel(t, ws, { stages: [{ key: 'a', name: 'A', position: 1, rules: [{ event: 'step_one' }] }] });
    const paused = await newFunnel(t, ws, { status: 'paused', stages: [{ key: 'a', name: 'A', position: 1, rules: [{ event: 'step_two' }] }] });
    await settle(t, ws.workspaceId);
    // Warm the cache, then change the rules behind this process's back, as another API instance would.
    await t.sql(`UPDATE funnel_stages SET rules = '[{"event": "step_two"}]' WHERE funnel_id = $1`, [funnel.id]);
    await t.sql(`UPDATE funnels SET version = version + 1, updated_at = now() WHERE id = $1`, [funnel.id]);
    await track(pk, [{ type: 'step_two', anonymousId }]);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, funnel.id, lead.id)).toBe('a');
    expect(await stageOf(t, paused.id, lead.id)).toBeNull();
  });
});

describe('manual moves', () => {
  it('moves either way with a reason, recorded with the actor; skipped stages count going forward', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await newLead(t, (await newForm(t, ws)).id);
    await settle(t, ws.workspaceId);
    const move = (credential: string, body: Record<string, unknown>, contactId = lead.id) =>
      t.http().post(funnelPath(ws, `/${funnel.id}/contacts/${contactId}/move`)).set(...bearer(credential)).send(body);

    const forward = await move(ws.accessToken, { stageKey: 'customer', reason: 'Paid by bank transfer' }).expect(200);
    expect(forward.body).toMatchObject({ contactId: lead.id, email: lead.email, stage: { key: 'customer', archived: false } });
    const key = await createKey(t, ws, 'secret', 'marketer');
    await move(key.key, { stageKey: 'lead', reason: 'Refunded' }).expect(200);
    expect(await stageOf(t, funnel.id, lead.id)).toBe('lead');
    // The same stage again changes nothing.
    await move(key.key, { stageKey: 'lead', reason: 'again' }).expect(200);

    const rows = await t.sql<{ key: string; source: string; actor_user_id: string | null; actor_api_key_id: string | null; reason: string | null }>(
      `SELECT s.key, h.source, h.actor_user_id, h.actor_api_key_id, h.reason FROM funnel_stage_history h JOIN funnel_stages s ON s.id = h.stage_id
        WHERE h.funnel_id = $1 AND h.contact_id = $2 ORDER BY h.id`,
      [funnel.id, lead.id],
    );
    expect(rows).toEqual([
      { key: 'lead', source: 'rule', actor_user_id: null, actor_api_key_id: null, reason: null },
      { key: 'confirmed', source: 'skip', actor_user_id: ws.userId, actor_api_key_id: null, reason: 'Paid by bank transfer' },
      { key: 'customer', source: 'manual', actor_user_id: ws.userId, actor_api_key_id: null, reason: 'Paid by bank transfer' },
      { key: 'lead', source: 'manual', actor_user_id: null, actor_api_key_id: key.id, reason: 'Refunded' },
    ]);
    const changed = await t.sql<{ source: string; key: string }>(
      `SELECT properties->>'source' AS source, properties->>'stageKey' AS key FROM domain_events
        WHERE workspace_id = $1 AND type = 'contact.stage_changed' ORDER BY id`,
      [ws.workspaceId],
    );
    expect(changed).toEqual([{ source: 'rule', key: 'lead' }, { source: 'manual', key: 'customer' }, { source: 'manual', key: 'lead' }]);

    const theirs = await t.http().get(`/v1/workspaces/${ws.workspaceId}/contacts/${lead.id}/funnels`).set(...bearer(ws.accessToken)).expect(200);
    expect(theirs.body.data).toEqual([
      expect.objectContaining({
        funnelId: funnel.id,
        stage: expect.objectContaining({ key: 'lead' }),
        history: [
          expect.objectContaining({ source: 'rule', eventType: 'form.submitted' }),
          expect.objectContaining({ source: 'skip' }),
          expect.objectContaining({ source: 'manual', reason: 'Paid by bank transfer', actorUserId: ws.userId }),
          expect.objectContaining({ source: 'manual', reason: 'Refunded', actorApiKeyId: key.id }),
        ],
      }),
    ]);

    expect((await move(ws.accessToken, { stageKey: 'vip', reason: 'x' }).expect(400)).body.errors).toEqual([{ field: 'stageKey', message: expect.any(String) }]);
    expect((await move(ws.accessToken, { stageKey: 'lead' }).expect(400)).body.errors).toEqual([{ field: 'reason', message: 'reason is required' }]);
    await move(ws.accessToken, { stageKey: 'lead', reason: 'x', extra: 1 }).expect(400);
    await move(ws.accessToken, { stageKey: 'lead', reason: 'x' }, randomUUID()).expect(404);
    await t.http().patch(funnelPath(ws, `/${funnel.id}`)).set(...bearer(ws.accessToken)).send({ status: 'archived' }).expect(200);
    expectProblem((await move(ws.accessToken, { stageKey: 'customer', reason: 'x' }).expect(409)).body, 409, 'funnel_archived');
  });

  it('lists the contacts of a funnel by stage, paged', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const form = (await newForm(t, ws)).id;
    const leads = [await newLead(t, form), await newLead(t, form), await newLead(t, form)];
    await settle(t, ws.workspaceId);
    await t.http().post(funnelPath(ws, `/${funnel.id}/contacts/${leads[0].id}/move`)).set(...bearer(ws.accessToken)).send({ stageKey: 'customer', reason: 'x' }).expect(200);
    const get = (q: string) => t.http().get(funnelPath(ws, `/${funnel.id}/contacts${q}`)).set(...bearer(ws.accessToken)).expect(200);
    expect((await get('?stage=customer')).body.data.map((c: { contactId: string }) => c.contactId)).toEqual([leads[0].id]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { contactId: string }[]; nextCursor: string | null } } = await get(`?stage=lead&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.data.map((c) => c.contactId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([leads[2].id, leads[1].id]);
    await t.http().get(funnelPath(ws, `/${funnel.id}/contacts?stage=nope`)).set(...bearer(ws.accessToken)).expect(400);
  });
});

describe('idempotency and coalescing', () => {
  it('processes replayed domain events without moving anyone twice', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const sk = (await createKey(t, ws, 'secret', 'marketer')).key;
    const lead = await newLead(t, (await newForm(t, ws)).id);
    await track(sk, [{ type: 'payment.succeeded', contactId: lead.id, properties: { amount: 10 } }]);
    await settle(t, ws.workspaceId);
    const before = await historyOf(t, funnel.id, lead.id);
    expect(before).toHaveLength(3);
    const replay = async () => {
      await requeue(t, ws.workspaceId, `type <> 'contact.stage_changed'`);
      await settle(t, ws.workspaceId);
    };
    await replay();
    expect(await historyOf(t, funnel.id, lead.id)).toEqual(before);
    expect(await stageOf(t, funnel.id, lead.id)).toBe('customer');
    // Moved back by hand, a replay of the payment still does not move them again.
    await t.http().post(funnelPath(ws, `/${funnel.id}/contacts/${lead.id}/move`)).set(...bearer(ws.accessToken)).send({ stageKey: 'lead', reason: 'mistake' }).expect(200);
    await replay();
    expect(await stageOf(t, funnel.id, lead.id)).toBe('lead');
    expect(await historyOf(t, funnel.id, lead.id)).toHaveLength(4);
    const changes = await t.sql(`SELECT 1 FROM domain_events WHERE workspace_id = $1 AND type = 'contact.stage_changed'`, [ws.workspaceId]);
    expect(changes).toHaveLength(3);
    // The same source recorded twice is one domain event.
    const event = emailOpened(lead.id);
    expect(await recordEvents(t, ws.workspaceId, [event])).toBe(1);
    expect(await recordEvents(t, ws.workspaceId, [event])).toBe(0);
  });

  it('coalesces a burst of wake-ups into one waiting job per workspace', async () => {
    const ws = await newWorkspace(t);
    const hook = t.app.get(DomainEventsService);
    await Promise.all(Array.from({ length: 30 }, () => hook.wake(ws.workspaceId)));
    const jobs = await t.sql<{ state: string }>(`SELECT state FROM pgboss.job WHERE name = 'funnels-evaluate' AND singleton_key = $1`, [ws.workspaceId]);
    // One waiting, and at most one the worker already picked up.
    expect(jobs.length).toBeGreaterThanOrEqual(1);
    expect(jobs.filter((j) => j.state === 'created').length).toBeLessThanOrEqual(1);
    expect(jobs.length).toBeLessThanOrEqual(2);
  });

  it('wakes the engine after public submissions commit (coalesced, sent within the wake window)', async () => {
    const ws = await newWorkspace(t);
    const form = await newForm(t, ws);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => submit(t, form.id, { fields: { email: `burst-${i}-${ws.workspaceId}@example.com` }, consent: { newsletter: true } }).expect(201)),
    );
    const jobs = async () => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'funnels-evaluate' AND singleton_key = $1`, [ws.workspaceId]))[0].n;
    let n = 0;
    for (let i = 0; i < 50 && n === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      n = await jobs();
    }
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);
  });

  it('exposes the engine for benchmarks: counts events, moves and batches', async () => {
    const ws = await newWorkspace(t);
    await newFunnel(t, ws);
    const form = (await newForm(t, ws)).id;
    const leads = [await newLead(t, form), await newLead(t, form)];
    await settle(t, ws.workspaceId);
    await requeue(t, ws.workspaceId, `type <> 'contact.stage_changed'`);
    await t.sql(`DELETE FROM funnel_stage_history WHERE workspace_id = $1`, [ws.workspaceId]);
    await t.sql(`DELETE FROM funnel_contacts WHERE workspace_id = $1`, [ws.workspaceId]);
    const engine = t.app.get(FunnelEngineService);
    const result = await engine.evaluateWorkspace(ws.workspaceId, { batchSize: 1 });
    // Two events per lead (form.submitted, tag.added); a worker may have claimed some of them first.
    expect(result.events).toBeLessThanOrEqual(leads.length * 2);
    expect(result).toMatchObject({ batches: result.events, more: false });
    expect(result.moves).toBeLessThanOrEqual(leads.length);
    await settle(t, ws.workspaceId);
    const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM funnel_contacts WHERE workspace_id = $1`, [ws.workspaceId]);
    expect(n).toBe(2);
  });
});

describe('engine lanes', () => {
  it("evaluates contacts in several lanes at once: each contact's events in order, every move once, counts exact", async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const channels = ['instagram', 'facebook', 'whatsapp', null];
    const contacts = await t.sql<{ id: string; i: number }>(
      `INSERT INTO contacts (workspace_id, email, email_status, first_channel)
       SELECT $1::uuid, 'lane-' || i || '-' || $1::text || '@example.com', 'subscribed', ($2::text[])[1 + i % 4] FROM generate_series(0, 59) i
       RETURNING id, split_part(email, '-', 2)::int AS i`,
      [ws.workspaceId, channels],
    );
    // Per contact, in time order: signed up; two in three confirmed; one in five paid, some of those before
    // confirming (the confirmation then changes nothing: stages only go forward).
    const start = Date.now() - 3_600_000;
    const journeysOf = contacts.map(({ id, i }) => {
      const at = (k: number) => new Date(start + i * 1_000 + k * 100);
      const list: QueuedEvent[] = [{ type: 'form.submitted', contactId: id, properties: {}, dedupeKey: `lanes:${id}:submitted`, occurredAt: at(0) }];
      const paid = { type: 'payment.succeeded', contactId: id, properties: { amount: 10 }, dedupeKey: `lanes:${id}:paid`, occurredAt: at(2) };
      const confirmed = { type: 'contact.confirmed', contactId: id, properties: {}, dedupeKey: `lanes:${id}:confirmed`, occurredAt: at(i % 10 === 0 ? 3 : 1) };
      if (i % 3 !== 0) list.push(confirmed);
      if (i % 5 === 0) list.push(paid);
      return list.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    });
    // Interleaved across contacts as traffic arrives (every contact's first event, then every second one,
    // …), each contact's own in its order: the queue's order is the order the engine must keep per contact.
    const events = Array.from({ length: 3 }, (_, round) => journeysOf.flatMap((list) => list.slice(round, round + 1))).flat();
    await queueQuietly(t, ws.workspaceId, events);

    const result = await t.app.get(FunnelEngineService).evaluateWorkspace(ws.workspaceId, { lanes: 3, batchSize: 7 });
    expect(result.events).toBe(events.length);
    await settle(t, ws.workspaceId);

    const expected = (i: number) => (i % 5 === 0 ? 'customer' : i % 3 !== 0 ? 'confirmed' : 'lead');
    const journeys = await t.sql<{ i: number; stage: string; keys: string[]; chained: boolean }>(
      `SELECT split_part(c.email, '-', 2)::int AS i, s.key AS stage,
              (SELECT array_agg(hs.key || ':' || h.source ORDER BY h.id) FROM funnel_stage_history h JOIN funnel_stages hs ON hs.id = h.stage_id
                WHERE h.funnel_id = fc.funnel_id AND h.contact_id = c.id) AS keys,
              -- Each entry names the stage entered just before it: the moves ran in order.
              (SELECT bool_and(h.from_stage_id IS NOT DISTINCT FROM h.prev) FROM (
                 SELECT from_stage_id, lag(stage_id) OVER (ORDER BY id) AS prev FROM funnel_stage_history
                  WHERE funnel_id = fc.funnel_id AND contact_id = c.id) h) AS chained
         FROM contacts c JOIN funnel_contacts fc ON fc.contact_id = c.id AND fc.funnel_id = $2 JOIN funnel_stages s ON s.id = fc.stage_id
        WHERE c.workspace_id = $1 ORDER BY 1`,
      [ws.workspaceId, funnel.id],
    );
    expect(journeys).toHaveLength(60);
    for (const j of journeys) {
      expect({ i: j.i, stage: j.stage, chained: j.chained }).toEqual({ i: j.i, stage: expected(j.i), chained: true });
      // Paid before confirming (or never): customer straight from lead, confirmed counted as skipped (the
      // funnel's default), and a later confirmation moves nobody back.
      const confirmedFirst = j.i % 3 !== 0 && j.i % 10 !== 0;
      const path = j.i % 5 === 0
        ? ['lead:rule', confirmedFirst ? 'confirmed:rule' : 'confirmed:skip', 'customer:rule']
        : j.i % 3 !== 0 ? ['lead:rule', 'confirmed:rule'] : ['lead:rule'];
      expect({ i: j.i, keys: j.keys }).toEqual({ i: j.i, keys: path });
    }
    const [{ n }] = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM domain_events WHERE workspace_id = $1 AND type = 'contact.stage_changed'`, [ws.workspaceId]);
    // One per move: skipped stages are entered without one.
    expect(n).toBe(journeys.reduce((sum, j) => sum + j.keys.filter((k) => k.endsWith(':rule')).length, 0));
    const { rollup, direct } = await countsOf(t, funnel.id);
    expect(rollup).toEqual(direct);
  });

  it('drops the queued events of a contact erased before they were evaluated, in whichever lane sees them', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const contacts = await Promise.all(Array.from({ length: 8 }, (_, i) => quietContact(t, ws.workspaceId, `gone-${i}`)));
    await queueQuietly(
      t,
      ws.workspaceId,
      contacts.map((id) => ({ type: 'form.submitted', contactId: id, properties: {}, dedupeKey: `gone:${id}`, occurredAt: new Date() })),
    );
    // Half of them are erased: their events go with them, their queue rows stay behind.
    const erased = contacts.filter((_, i) => i % 2 === 0);
    await t.sql(`DELETE FROM contacts WHERE id = ANY($1::uuid[])`, [erased]);

    const result = await t.app.get(FunnelEngineService).evaluateWorkspace(ws.workspaceId, { lanes: 3, batchSize: 2 });
    expect(result).toMatchObject({ events: 8, moves: 4 });
    expect(await t.sql(`SELECT 1 FROM domain_event_queue WHERE workspace_id = $1`, [ws.workspaceId])).toEqual([]);
    for (const id of contacts) expect(await stageOf(t, funnel.id, id)).toBe(erased.includes(id) ? null : 'lead');
  });

  it('runs a batch again when it deadlocks with another writer of the same contact', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await quietContact(t, ws.workspaceId, 'deadlock');
    const event = (type: string): QueuedEvent => ({ type, contactId: lead, properties: {}, dedupeKey: `deadlock:${type}:${lead}`, occurredAt: new Date() });
    await queueQuietly(t, ws.workspaceId, [event('form.submitted')]);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, funnel.id, lead)).toBe('lead');
    await queueQuietly(t, ws.workspaceId, [event('contact.confirmed')]);

    // Another writer holds the workspace's count lock, as a manual move or an erasure does from its first
    // counted write until it commits.
    await asCountWriter(t, ws.workspaceId, async (other) => {
      // The batch locks the contact's current stage, writes, and waits for the count lock at the end of its statement.
      const evaluation = t.app.get(FunnelEngineService).evaluateWorkspace(ws.workspaceId, { lanes: 1 });
      await countLockWaited(t, ws.workspaceId);
      // The other writer now wants the contact's row the batch holds: a deadlock. PostgreSQL aborts the
      // batch (it waited first, so its check finds the cycle first); this call goes through once it has.
      await other.query(`SELECT 1 FROM funnel_contacts WHERE funnel_id = $1 AND contact_id = $2 FOR UPDATE`, [funnel.id, lead]);
      await other.commitTransaction();
      // The batch ran again and moved the contact.
      expect(await evaluation).toMatchObject({ events: 1, moves: 1 });
    });
    expect(await stageOf(t, funnel.id, lead)).toBe('confirmed');
    expect((await historyOf(t, funnel.id, lead)).map((h) => h.key)).toEqual(['lead', 'confirmed']);
  });
});

describe('manual move against the rule engine', () => {
  // Sent at once (then() starts a supertest request); awaited once the other writer has done its part.
  const moveTo = (ws: Session, funnelId: string, contactId: string, stageKey: string) =>
    t.http().post(funnelPath(ws, `/${funnelId}/contacts/${contactId}/move`)).set(...bearer(ws.accessToken)).send({ stageKey, reason: 'called us' }).then((res) => res);

  it("runs a manual move again when it deadlocks with a rule's first move of the same contact", async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await quietContact(t, ws.workspaceId, 'move-deadlock');
    const stage = (key: string) => funnel.stages.find((s) => s.key === key)!.id;
    // The other writer plays a lane putting the contact into the funnel at "lead" at the same moment.
    await asCountWriter(t, ws.workspaceId, async (other) => {
      // The move (to "confirmed", so "lead" is entered as skipped) writes its history, first entries
      // included, then waits for the count lock at the end of that statement.
      const answer = moveTo(ws, funnel.id, lead, 'confirmed');
      await countLockWaited(t, ws.workspaceId);
      await other.query(
        `INSERT INTO funnel_contacts (workspace_id, funnel_id, contact_id, stage_id, entered_at, funnel_entered_at) VALUES ($1, $2, $3, $4, now(), now())`,
        [ws.workspaceId, funnel.id, lead, stage('lead')],
      );
      // Its first entry into "lead" waits for the move's: a deadlock, and the move, which waited first, is
      // the one PostgreSQL aborts.
      await other.query(
        `INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, entered_at, source, first_entry) VALUES ($1, $2, $3, $4, now(), 'skip', true)`,
        [ws.workspaceId, funnel.id, lead, stage('lead')],
      );
      await other.commitTransaction();
      // The move ran again, from "lead" where the other writer put the contact.
      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.body.stage.key).toBe('confirmed');
    });
    expect((await historyOf(t, funnel.id, lead)).map((h) => `${h.key}:${h.source}`)).toEqual(['lead:skip', 'confirmed:manual']);
    const { rollup, direct } = await countsOf(t, funnel.id);
    expect(rollup).toEqual(direct);
  });

  it('runs a manual move again when a rule put the contact into the funnel meanwhile', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await quietContact(t, ws.workspaceId, 'move-meanwhile');
    await asCountWriter(t, ws.workspaceId, async (lane) => {
      // The move finds the contact in no stage (nothing to lock), writes its history as from outside the
      // funnel, and waits for the count lock.
      const answer = moveTo(ws, funnel.id, lead, 'confirmed');
      await countLockWaited(t, ws.workspaceId);
      // Meanwhile a rule puts the contact into "lead" and commits.
      await lane.query(
        `INSERT INTO funnel_contacts (workspace_id, funnel_id, contact_id, stage_id, entered_at, funnel_entered_at) VALUES ($1, $2, $3, $4, now() - interval '1 minute', now() - interval '1 minute')`,
        [ws.workspaceId, funnel.id, lead, funnel.stages.find((s) => s.key === 'lead')!.id],
      );
      await lane.commitTransaction();
      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.body.stage.key).toBe('confirmed');
    });
    // Moved from "lead", where the rule had put the contact: not "lead" entered again as if from outside.
    const history = await t.sql<{ key: string; source: string; from_key: string | null }>(
      `SELECT s.key, h.source, fs.key AS from_key FROM funnel_stage_history h JOIN funnel_stages s ON s.id = h.stage_id
         LEFT JOIN funnel_stages fs ON fs.id = h.from_stage_id
        WHERE h.funnel_id = $1 AND h.contact_id = $2 ORDER BY h.id`,
      [funnel.id, lead],
    );
    expect(history).toEqual([{ key: 'confirmed', source: 'manual', from_key: 'lead' }]);
  });

  it('runs a batch again when a manual move put a new contact into the funnel after the batch found it outside', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await quietContact(t, ws.workspaceId, 'move-first');
    await queueQuietly(t, ws.workspaceId, [{ type: 'form.submitted', contactId: lead, properties: {}, dedupeKey: `move-first:${lead}`, occurredAt: new Date() }]);
    // The batch finds the contact in no stage, so it knows its entries are first entries without looking.
    // Right then, a manual move puts the contact into "lead" and commits.
    const repo = t.app.get(FunnelEngineRepository);
    let moved = false;
    repo.lockCurrent = async (...args) => {
      const found = await FunnelEngineRepository.prototype.lockCurrent.apply(repo, args);
      if (!moved) {
        moved = true;
        const res = await moveTo(ws, funnel.id, lead, 'lead');
        expect(res.status).toBe(200);
      }
      return found;
    };
    try {
      // The batch's first entry into "lead" collides with the move's; it runs again, finds the contact in
      // "lead" already, and moves nobody.
      expect(await t.app.get(FunnelEngineService).evaluateWorkspace(ws.workspaceId, { lanes: 1 })).toMatchObject({ events: 1, moves: 0 });
    } finally {
      delete (repo as Partial<FunnelEngineRepository>).lockCurrent;
    }
    expect(moved).toBe(true);
    // One entry into "lead", the move's: not a second one by the rule, recorded as if the contact had
    // entered again.
    expect((await historyOf(t, funnel.id, lead)).map((h) => `${h.key}:${h.source}`)).toEqual(['lead:manual']);
    const { rollup, direct } = await countsOf(t, funnel.id);
    expect(rollup).toEqual(direct);
  });
});

describe('erasure against the rule engine', () => {
  it('runs an erasure again when it deadlocks with a writer of the same contact', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await quietContact(t, ws.workspaceId, 'erase-deadlock');
    await queueQuietly(t, ws.workspaceId, [{ type: 'form.submitted', contactId: lead, properties: {}, dedupeKey: `erase:${lead}`, occurredAt: new Date() }]);
    await settle(t, ws.workspaceId);
    expect(await stageOf(t, funnel.id, lead)).toBe('lead');
    await asCountWriter(t, ws.workspaceId, async (other) => {
      // The erasure deletes the contact, its stages with it, and waits for the count lock.
      const answer = t.http().delete(`/v1/workspaces/${ws.workspaceId}/contacts/${lead}`).set(...bearer(ws.accessToken)).then((res) => res);
      await countLockWaited(t, ws.workspaceId);
      // The other writer (a lane, say) wants the contact's stage the erasure holds: a deadlock.
      await other.query(`SELECT 1 FROM funnel_contacts WHERE funnel_id = $1 AND contact_id = $2 FOR UPDATE`, [funnel.id, lead]);
      await other.commitTransaction();
      expect((await answer).status).toBe(204);
    });
    expect(await t.sql(`SELECT 1 FROM contacts WHERE id = $1`, [lead])).toEqual([]);
    const { rollup, direct } = await countsOf(t, funnel.id);
    expect(rollup).toEqual(direct);
  });
});

describe('report counts', () => {
  it('keeps the rollup equal to a direct count through rule moves, manual moves and an erasure', async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const sk = (await createKey(t, ws, 'secret', 'marketer')).key;
    const form = (await newForm(t, ws)).id;
    const leads = [
      await newLead(t, form, { utm_source: 'instagram' }),
      await newLead(t, form, { utm_source: 'instagram' }),
      await newLead(t, form, { referrer: 'https://wa.me/1' }),
      await newLead(t, form),
    ];
    await track(sk, leads.slice(0, 2).map((l) => ({ type: 'payment.succeeded', contactId: l.id, properties: { amount: 10 } })));
    await settle(t, ws.workspaceId);
    const move = (contactId: string, stageKey: string) =>
      t.http().post(funnelPath(ws, `/${funnel.id}/contacts/${contactId}/move`)).set(...bearer(ws.accessToken)).send({ stageKey, reason: 'test' }).expect(200);
    await move(leads[0].id, 'lead');
    await move(leads[2].id, 'confirmed');
    await t.http().delete(`/v1/workspaces/${ws.workspaceId}/contacts/${leads[1].id}`).set(...bearer(ws.accessToken)).expect(204);

    const { rollup, direct } = await countsOf(t, funnel.id);
    expect(rollup).toEqual(direct);
    // The daily rollup sums the same entries per UTC day.
    const byDay = (table: 'funnel_stage_counts' | 'funnel_stage_counts_daily', day: string) =>
      t.sql<Record<string, unknown>>(
        `SELECT ${day} AS day, stage_id, channel, sum(entered)::int AS entered, sum(still_in)::int AS still_in FROM ${table}
          WHERE funnel_id = $1 GROUP BY 1, 2, 3 HAVING sum(entered) <> 0 OR sum(still_in) <> 0 ORDER BY 1, 2, 3`,
        [funnel.id],
      );
    expect(await byDay('funnel_stage_counts_daily', 'day')).toEqual(await byDay('funnel_stage_counts', `(slot AT TIME ZONE 'UTC')::date`));
    const report = await t.http().get(funnelPath(ws, `/${funnel.id}/report?groupBy=channel`)).set(...bearer(ws.accessToken)).expect(200);
    // Moved back to lead, the first customer stays counted as one entry each: lead, confirmed (skipped), customer.
    expect(report.body.stages.map((s: { key: string; entered: number; currentlyIn: number }) => [s.key, s.entered, s.currentlyIn])).toEqual([
      ['lead', 3, 2],
      ['confirmed', 2, 1],
      ['customer', 1, 0],
    ]);
    expect(report.body.groups.map((g: { key: string }) => g.key)).toEqual(['instagram', 'whatsapp', 'direct']);
  });
});

describe('tenancy and roles', () => {
  it("answers 404 to another workspace's token or key on every funnel route, and 403 to a viewer's writes", async () => {
    const ws = await newWorkspace(t);
    const funnel = await newFunnel(t, ws);
    const lead = await newLead(t, (await newForm(t, ws)).id);
    await settle(t, ws.workspaceId);
    const other = await newWorkspace(t, 'other');
    const otherKey = await createKey(t, other, 'secret', 'admin');
    const otherFunnel = await newFunnel(t, other);
    type Method = 'get' | 'post' | 'patch' | 'delete';
    const routes = (base: string, funnelId: string): [Method, string, Record<string, unknown>?][] => [
      ['get', `${base}/funnels`],
      ['post', `${base}/funnels`, { name: 'x', stages: THREE_STAGES }],
      ['get', `${base}/funnels/${funnelId}`],
      ['patch', `${base}/funnels/${funnelId}`, { name: 'pwned' }],
      ['delete', `${base}/funnels/${funnelId}`],
      ['get', `${base}/funnels/${funnelId}/contacts`],
      ['post', `${base}/funnels/${funnelId}/contacts/${lead.id}/move`, { stageKey: 'customer', reason: 'x' }],
      ['get', `${base}/funnels/${funnelId}/report`],
      ['get', `${base}/contacts/${lead.id}/funnels`],
    ];
    const call = (method: Method, path: string, credential: string, body?: Record<string, unknown>) => {
      const req = t.http()[method](path).set(...bearer(credential));
      return body ? req.send(body) : req;
    };
    for (const credential of [other.accessToken, otherKey.key]) {
      for (const [method, path, body] of routes(`/v1/workspaces/${ws.workspaceId}`, funnel.id)) {
        const res = await call(method, path, credential, body);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      }
    }
    // Their own workspace path with our funnel or contact ids: not found either.
    for (const [method, path, body] of routes(`/v1/workspaces/${other.workspaceId}`, funnel.id).slice(2)) {
      const res = await call(method, path, other.accessToken, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    const res = await call('post', `/v1/workspaces/${other.workspaceId}/funnels/${otherFunnel.id}/contacts/${lead.id}/move`, other.accessToken, { stageKey: 'lead', reason: 'x' });
    expect(res.status).toBe(404);

    const viewer = await addMember(t, ws, 'viewer');
    const viewerKey = await createKey(t, ws, 'secret', 'viewer');
    for (const credential of [viewer.accessToken, viewerKey.key]) {
      for (const [method, path, body] of routes(`/v1/workspaces/${ws.workspaceId}`, funnel.id)) {
        const status = (await call(method, path, credential, body)).status;
        expect({ method, path, status }).toEqual({ method, path, status: method === 'get' ? 200 : 403 });
      }
    }
    expect(await stageOf(t, funnel.id, lead.id)).toBe('lead');
    const [row] = await t.sql<{ name: string }>(`SELECT name FROM funnels WHERE id = $1`, [funnel.id]);
    expect(row.name).not.toBe('pwned');
  });
});
