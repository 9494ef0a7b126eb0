import type { INestApplicationContext } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateOrReject } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource, type QueryRunner } from 'typeorm';
import { RollupsService } from '../src/analytics/rollups.service.js';
import { AuthService } from '../src/auth/auth.service.js';
import { VALIDATION_OPTIONS } from '../src/common/validation.js';
import { CreateFormDto } from '../src/forms/forms.dto.js';
import { FormsService } from '../src/forms/forms.service.js';
import { EventPartitionsService } from '../src/tracking/event-partitions.service.js';
import { createDemoFunnel, seedDemoJourneys } from './demo-funnel.js';
import { CreateApiKeyDto } from '../src/workspaces/workspaces.dto.js';
import { ApiKeysService } from '../src/workspaces/api-keys.service.js';

export interface DemoOptions {
  contacts: number;
  events: number;
  // How far back the data goes.
  days: number;
  log: (line: string) => void;
}

export interface DemoWorkspace {
  email: string;
  password: string;
  userId: string;
  workspaceId: string;
  publishableKey: string;
  formIds: string[];
  funnelId: string;
  timings: Record<string, number>;
}

// Weighted choices: [value, weight]; weights of a list sum to 1.
type Weights = readonly (readonly [string, number])[];

// Who signs up: social-heavy, as for a shop that lives on Instagram and WhatsApp.
const CONTACT_CHANNELS: Weights = [
  ['instagram', 0.28], ['facebook', 0.18], ['whatsapp', 0.14], ['tiktok', 0.12], ['direct', 0.09], ['google', 0.07],
  ['email', 0.05], ['youtube', 0.03], ['referral', 0.02], ['x', 0.01], ['linkedin', 0.01],
];
// Who visits: TikTok brings many views that convert less; WhatsApp few that convert well.
const TRAFFIC_CHANNELS: Weights = [
  ['instagram', 0.3], ['tiktok', 0.2], ['facebook', 0.16], ['direct', 0.1], ['google', 0.08], ['whatsapp', 0.07],
  ['youtube', 0.04], ['email', 0.03], ['referral', 0.02],
];
const EVENT_TYPES: Weights = [['page_view', 0.55], ['form_view', 0.3], ['scroll_50', 0.1], ['cta_click', 0.05]];
// utm_campaign by channel, for the share of visits that carry one.
const CAMPAIGNS: Record<string, Weights> = {
  instagram: [['spring_sale', 0.35], ['influencer_collab', 0.25]],
  facebook: [['spring_sale', 0.3], ['retargeting_q2', 0.3]],
  tiktok: [['tiktok_challenge', 0.5]],
  whatsapp: [['vip_broadcast', 0.4]],
  email: [['newsletter_weekly', 0.8]],
  google: [['brand_search', 0.6]],
};
const PENDING_SHARE: Record<string, number> = { tiktok: 0.3, instagram: 0.2, facebook: 0.15 };
const FIRST_NAMES = ['Ana', 'Ben', 'Chloé', 'Dara', 'Emeka', 'Fatima', 'Gabriel', 'Hana', 'Ines', 'Jonas', 'Kemi', 'Luca', 'Maya', 'Noah', 'Olga', 'Priya', 'Quentin', 'Rosa', 'Sami', 'Tariq', 'Uma', 'Vera', 'Wen', 'Yusuf'];
const LAST_NAMES = ['Silva', 'Okafor', 'Müller', 'Kowalski', 'Haddad', 'Nguyen', 'García', 'Rossi', 'Cohen', 'Sato', 'Dubois', 'Novak', 'Ali', 'Hansen', 'Costa', 'Yilmaz', 'Khan', 'Moreau', 'Berg', 'Mensah'];

const FORMS = [
  { name: 'Spring giveaway', title: 'Win a spring box', doubleOptIn: false },
  { name: 'Newsletter', title: 'Get our weekly deals', doubleOptIn: true },
  { name: 'WhatsApp VIP list', title: 'Join the VIP list', doubleOptIn: false },
  { name: 'Free sizing guide', title: 'Download the sizing guide', doubleOptIn: true },
  { name: 'Pop-up store waitlist', title: 'Be first at the pop-up store', doubleOptIn: false },
];

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;
const sqlArray = (values: readonly string[]) => `ARRAY[${values.map(sql).join(', ')}]`;

/** A CASE over a uniform random number in `r` picking a value by weight (NULL past the last). */
function pick(r: string, weights: Weights): string {
  let cumulative = 0;
  const whens = weights.map(([value, weight]) => {
    cumulative += weight;
    return `WHEN ${r} < ${cumulative.toFixed(4)} THEN ${sql(value)}`;
  });
  return `CASE ${whens.join(' ')} END`;
}

/** The campaign of a visit from `channel`, by the uniform number in `r` (NULL for most). */
function campaignOf(channel: string, r: string): string {
  return `CASE ${channel} ${Object.entries(CAMPAIGNS).map(([ch, weights]) => `WHEN ${sql(ch)} THEN ${pick(r, weights)}`).join(' ')} END`;
}

// A time in the `days` before `now` (SQL parameters), denser towards now: the business is growing.
const growingTime = (r: string, days: string, now: string) => `date_trunc('milliseconds', ${now}::timestamptz - ${days}::float8 * (1 - sqrt(${r})) * interval '1 day')`;

async function timed<T>(timings: Record<string, number>, name: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  timings[name] = Math.round(performance.now() - started);
  log(`${name}: ${(timings[name] / 1000).toFixed(1)} s`);
  return result;
}

/** A DTO as the validation pipe makes it from `plain`: transformed, then validated. */
export async function dto<T extends object>(cls: new () => T, plain: object): Promise<T> {
  const value = plainToInstance(cls, plain);
  await validateOrReject(value, VALIDATION_OPTIONS);
  return value;
}

/**
 * A connection for bulk inserts. With `skipChecks`, foreign-key checks are skipped where the role may
 * (superuser, or granted SET on session_replication_role): every row references the workspace, forms
 * and contacts this seed just created, and the check per row costs a third of the time. That setting
 * skips user triggers too, so it serves only tables without insert triggers (contacts, submissions,
 * consents, events); the funnel tables' triggers keep the report's counts. Only this session is affected.
 */
async function bulkConnection(ds: DataSource, skipChecks: boolean): Promise<QueryRunner> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  // A demo can be regenerated: no need to wait for each commit's flush.
  await runner.query(`SET synchronous_commit = off`);
  if (skipChecks) await runner.query(`SET session_replication_role = replica`).catch(() => undefined);
  return runner;
}

/** Back to the pool as it came: the settings above must not follow the connection to other work. */
async function releaseBulk(runner: QueryRunner): Promise<void> {
  try {
    await runner.query(`RESET session_replication_role`);
    await runner.query(`RESET synchronous_commit`);
  } finally {
    await runner.release();
  }
}

/** Runs chunks 0 … chunks-1 on `lanes` connections of their own (PostgreSQL inserts on one core per statement). */
async function inLanes(
  ds: DataSource,
  lanes: number,
  chunks: number,
  fn: (runner: QueryRunner, chunk: number) => Promise<void>,
  skipChecks = true,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, chunks) }, async () => {
      const runner = await bulkConnection(ds, skipChecks);
      try {
        while (next < chunks) await fn(runner, next++);
      } finally {
        await releaseBulk(runner);
      }
    }),
  );
}

/**
 * A realistic demo workspace: an owner who can sign in, five forms, contacts from a social-heavy
 * channel mix with confirmed and pending opt-ins, a few campaigns, and page views, form views and
 * submissions with the usual drop-off. Set-based SQL (INSERT … SELECT generate_series), then the
 * analytics rollups are built for it.
 */
export async function seedDemo(app: INestApplicationContext, options: DemoOptions): Promise<DemoWorkspace> {
  const { log } = options;
  const timings: Record<string, number> = {};
  const ds = app.get(DataSource);
  const days = String(options.days);

  const email = `demo+${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}@example.com`;
  const password = randomBytes(12).toString('base64url');
  const signup = await app.get(AuthService).signup({ email, password, name: 'Demo Owner', workspaceName: 'Demo Shop' }, '127.0.0.1');
  const ws = { id: signup.workspace.id, role: 'owner' as const };
  const formIds: string[] = [];
  for (const form of FORMS) {
    const created = await app.get(FormsService).create(
      ws,
      await dto(CreateFormDto, {
        ...form,
        fields: [
          { key: 'email', type: 'email', label: 'Email', required: true },
          { key: 'first_name', type: 'first_name', label: 'First name' },
          { key: 'phone', type: 'phone', label: 'WhatsApp number' },
        ],
        consents: [{ key: 'news', channel: 'email', text: 'Email me news and offers. I can unsubscribe at any time.', required: true }],
        tags: ['demo'],
      }),
    );
    formIds.push(created.id);
  }
  const key = await app.get(ApiKeysService).create(ws, signup.user.id, await dto(CreateApiKeyDto, { name: 'Demo website', kind: 'publishable' }));

  await timed(timings, 'partitions', log, () => app.get(EventPartitionsService).ensureRange(new Date(Date.now() - options.days * 86_400_000), new Date()));

  // Rows are generated in slices of time, oldest first, each inserted in time order: tables and indexes
  // grow at their end, as with live traffic, and the BRIN indexes the rollup refresh uses stay tight.
  const now = new Date();
  const lanes = 2;
  const contactChunks = Math.ceil(options.contacts / 100_000);
  await timed(timings, `contacts (${options.contacts})`, log, () =>
    inLanes(ds, lanes, contactChunks, async (runner, chunk) => {
      const first = Math.floor((chunk * options.contacts) / contactChunks) + 1;
      const last = Math.floor(((chunk + 1) * options.contacts) / contactChunks);
      await runner.query(
        `INSERT INTO contacts (workspace_id, email, phone, first_name, last_name, tags, email_status, sms_status,
                               first_touch, last_touch, first_channel, last_channel, created_at, updated_at)
         SELECT $1, 'lead' || i || '@example.com',
                CASE WHEN channel = 'whatsapp' THEN '+1555' || lpad(i::text, 7, '0') END,
                (${sqlArray(FIRST_NAMES)})[1 + i % ${FIRST_NAMES.length}], (${sqlArray(LAST_NAMES)})[1 + (i / ${FIRST_NAMES.length}) % ${LAST_NAMES.length}],
                ARRAY['demo'],
                CASE WHEN r_status < 0.04 THEN 'unsubscribed'
                     WHEN r_status < 0.04 + CASE channel ${Object.entries(PENDING_SHARE).map(([ch, p]) => `WHEN ${sql(ch)} THEN ${p}`).join(' ')} ELSE 0.1 END THEN 'pending'
                     ELSE 'subscribed' END,
                CASE WHEN channel = 'whatsapp' AND r_sms < 0.6 THEN 'subscribed' ELSE 'none' END,
                touch, touch, channel, channel, at, at
           FROM (SELECT i, channel, r_status, r_sms, at,
                        jsonb_strip_nulls(jsonb_build_object('channel', channel, 'at', at, 'utm_source', CASE WHEN campaign IS NOT NULL THEN channel END,
                                                             'utm_campaign', campaign)) AS touch
                   FROM (SELECT i, channel, r_status, r_sms, at, ${campaignOf('channel', 'r_campaign')} AS campaign
                           FROM (SELECT i, ${pick('r_channel', CONTACT_CHANNELS)} AS channel, r_campaign, r_status, r_sms, ${growingTime('r_time', '$4', '$7')} AS at
                                   FROM (SELECT i, random() AS r_channel, random() AS r_campaign, random() AS r_status, random() AS r_sms,
                                                ($5::int + random()) / $6::int AS r_time
                                           FROM generate_series($2::int, $3::int) i) r) c) t) g
          ORDER BY at`,
        [ws.id, first, last, days, chunk, contactChunks, now],
      );
    }),
  );

  await timed(timings, 'submissions and consents', log, async () => {
    // Slices of contacts by creation time, the same as above.
    const [{ edges }] = await ds.query<{ edges: Date[] }[]>(
      `SELECT percentile_disc((SELECT array_agg(k::float8 / $2) FROM generate_series(0, $2) k)) WITHIN GROUP (ORDER BY created_at) AS edges
         FROM contacts WHERE workspace_id = $1`,
      [ws.id, contactChunks],
    );
    // One signup per contact when it was created, on a form its channel favours.
    const formFor = `CASE WHEN c.first_channel = 'whatsapp' AND r_form < 0.7 THEN 3
                          WHEN c.first_channel IN ('instagram', 'tiktok') AND r_form < 0.55 THEN 1
                          WHEN c.email_status = 'pending' THEN CASE WHEN r_form < 0.5 THEN 2 ELSE 4 END
                          ELSE 1 + floor(r_form * 5)::int END`;
    // The contacts of slice `chunk`, with the window's bounds as parameters $n and $n+1.
    const slice = (n: number) => `c.workspace_id = $1 AND c.created_at >= $${n} AND c.created_at <= $${n + 1}`;
    await inLanes(ds, lanes, contactChunks, async (runner, chunk) => {
      // Bounds are inclusive: a contact exactly on an edge belongs to the earlier slice only.
      const from = chunk === 0 ? edges[0] : new Date(edges[chunk].getTime() + 1);
      const to = edges[chunk + 1];
      await runner.query(
        `INSERT INTO submissions (workspace_id, form_id, form_version, contact_id, "values", context, channel, status, created_at)
         SELECT c.workspace_id, ($2::uuid[])[${formFor}], 1, c.id,
                jsonb_strip_nulls(jsonb_build_object('email', c.email, 'first_name', c.first_name, 'phone', c.phone)),
                jsonb_strip_nulls(jsonb_build_object('utm_source', c.first_touch->>'utm_source', 'utm_campaign', c.first_touch->>'utm_campaign')),
                COALESCE(c.first_channel, 'direct'), CASE WHEN c.email_status = 'pending' THEN 202 ELSE 201 END, c.created_at
           FROM (SELECT c.*, random() AS r_form FROM contacts c WHERE ${slice(3)}) c
          ORDER BY c.created_at`,
        [ws.id, formIds, from, to],
      );
      await runner.query(
        `INSERT INTO consents (workspace_id, contact_id, channel, status, source, wording, created_at)
         SELECT c.workspace_id, c.id, x.channel, x.status, 'form', x.wording, c.created_at
           FROM contacts c
           CROSS JOIN LATERAL (VALUES ('email', CASE WHEN c.email_status = 'pending' THEN 'pending' ELSE 'granted' END,
                                       'Email me news and offers. I can unsubscribe at any time.', true),
                                      ('sms', 'granted', 'Text me on WhatsApp about new drops.', c.sms_status = 'subscribed')) AS x(channel, status, wording, given)
          WHERE ${slice(2)} AND x.given
          ORDER BY c.created_at`,
        [ws.id, from, to],
      );
    });
    // 8% come back later and sign up on another form.
    const runner = await bulkConnection(ds, true);
    try {
      await runner.query(
        `INSERT INTO submissions (workspace_id, form_id, form_version, contact_id, "values", context, channel, status, created_at)
         SELECT workspace_id, ($2::uuid[])[1 + floor(r_form * 5)::int], 1, id,
                jsonb_strip_nulls(jsonb_build_object('email', email, 'first_name', first_name)), '{}', 'email', 201, at
           FROM (SELECT c.*, random() AS r_form, date_trunc('milliseconds', c.created_at + ($3::timestamptz - c.created_at) * random()) AS at
                   FROM contacts c WHERE c.workspace_id = $1 AND random() < 0.08) c
          ORDER BY at`,
        [ws.id, formIds, now],
      );
    } finally {
      await releaseBulk(runner);
    }
  });

  const funnel = await createDemoFunnel(app, ws);
  await timed(timings, 'funnel journeys', log, () =>
    inLanes(ds, lanes, lanes, (runner, part) => seedDemoJourneys(runner, ws, funnel, formIds, now, part, lanes), false),
  );

  // Chunks are slices of time, oldest first, each inserted in time order: every partition and index
  // then grows at its end (appends), as with live traffic, instead of at random places.
  const eventChunk = 500_000;
  const chunks = Math.ceil(options.events / eventChunk);
  const visitors = Math.max(options.contacts * 3, Math.ceil(options.events / 8));
  let done = 0;
  await timed(timings, `events (${options.events})`, log, () =>
    // Two lanes: PostgreSQL inserts on one core per statement.
    inLanes(ds, 2, chunks, async (runner, chunk) => {
      const first = chunk * eventChunk + 1;
      const last = Math.min(options.events, first + eventChunk - 1);
      await runner.query(
        `INSERT INTO events (workspace_id, type, anonymous_id, properties, context, channel, occurred_at, received_at)
         SELECT $1, type, 'v' || lpad(visitor::text, 9, '0'),
                CASE type WHEN 'form_view' THEN jsonb_build_object('formId', ($2::uuid[])[form], 'formVersion', 1)
                          WHEN 'page_view' THEN '{"title": "Demo Shop"}'::jsonb
                          ELSE '{}'::jsonb END,
                CASE WHEN campaign IS NULL THEN '{"url": "https://shop.example/"}'::jsonb
                     ELSE jsonb_build_object('url', 'https://shop.example/', 'utm_source', channel, 'utm_campaign', campaign) END,
                channel, at, at + (r_delay * 3000)::int * interval '1 millisecond'
           FROM (SELECT visitor, type, channel, form, at, r_delay, ${campaignOf('channel', 'r_campaign')} AS campaign
                   FROM (SELECT -- visitors come back within a few days: ids follow time, loosely
                                floor(LEAST(0.999999, GREATEST(0, r_time + (r_visitor - 0.5) * 0.02)) * $5)::int AS visitor,
                                ${pick('r_type', EVENT_TYPES)} AS type,
                                ${pick('r_channel', TRAFFIC_CHANNELS)} AS channel, 1 + floor(r_form * 5)::int AS form,
                                ${growingTime('r_time', '$6', '$9')} AS at, r_campaign, r_delay
                           FROM (SELECT ($7::int + random()) / $8::int AS r_time, random() AS r_visitor, random() AS r_type,
                                        random() AS r_channel, random() AS r_form, random() AS r_campaign, random() AS r_delay
                                   FROM generate_series($3::int, $4::int)) r) e) g
          ORDER BY at`,
        [ws.id, formIds, first, last, visitors, days, chunk, chunks, now],
      );
      done += last - first + 1;
      if (chunks >= 10 && (chunk + 1) % Math.ceil(chunks / 10) === 0) log(`  events: ${done} of ${options.events}`);
    }),
  );

  // Statistics for the planner, pages marked all-visible (index-only scans, and no autovacuum pass over
  // millions of fresh rows competing with what is measured next), and the BRIN summaries the rollup
  // refresh relies on to find new rows.
  await timed(timings, 'vacuum and analyze', log, async () => {
    for (const table of [
      'contacts',
      'submissions',
      'consents',
      'events',
      'domain_events',
      'funnel_stage_history',
      'funnel_contacts',
      'funnel_stage_counts',
      'funnel_stage_counts_daily',
    ]) {
      await ds.query(`VACUUM (ANALYZE) ${table}`);
    }
    await ds.query(
      `SELECT brin_summarize_new_values(i.indexrelid)
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE a.amname = 'brin' AND c.relkind = 'i'`,
    );
  });

  const rollups = app.get(RollupsService);
  await timed(timings, 'rollups', log, async () => {
    // The rows carry past timestamps: the workspace is counted from scratch, then the watermarks move on.
    await rollups.rebuildWorkspace(ws.id);
    await rollups.refresh();
    // Reports read the rollups' primary keys only (index-only scans): mark the pages all-visible now
    // rather than at autovacuum's next pass.
    await ds.query(`VACUUM (ANALYZE) analytics_channel_stats, analytics_campaign_stats, analytics_form_stats`);
  });

  return { email, password, userId: signup.user.id, workspaceId: ws.id, publishableKey: key.key, formIds, funnelId: funnel.id, timings };
}
