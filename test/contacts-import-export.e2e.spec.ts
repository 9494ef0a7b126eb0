import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContactsImportService } from '../src/contacts/contacts-import.service.js';
import { CSV_HEADER } from '../src/contacts/contacts-export.service.js';
import { parseCsv } from '../src/contacts/csv.js';
import { identityHash } from '../src/contacts/identity-hash.js';
import { addMember, bearer, createKey, expectProblem, newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const base = (s: Session | string) => `/v1/workspaces/${typeof s === 'string' ? s : s.workspaceId}/contacts`;

const importCsv = (s: Session, csv: string, query: Record<string, string> = {}, token = s.accessToken) =>
  t.http().post(`${base(s)}/import`).query(query).set(...bearer(token)).set('content-type', 'text/csv').send(csv);

interface ImportBody {
  id: string;
  status: string;
  totalRows: number;
  processedRows: number;
  progress: number;
  createdContacts: number;
  updatedContacts: number;
  failedRows: number;
  errorCount: number;
  errors: { row: number; field: string; message: string }[];
  errorsTruncated: boolean;
}

async function finished(s: Session, id: string): Promise<ImportBody> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await t.http().get(`${base(s)}/imports/${id}`).set(...bearer(s.accessToken)).expect(200);
    if (res.body.status === 'completed' || res.body.status === 'failed') return res.body;
    if (Date.now() > deadline) throw new Error(`import ${id} still ${res.body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const importAndWait = async (s: Session, csv: string, query: Record<string, string> = {}) => {
  const res = await importCsv(s, csv, query).expect(202);
  return finished(s, res.body.id);
};

const contactsOf = (s: Session) =>
  t.sql<Record<string, unknown>>(
    `SELECT email, phone, first_name, last_name, attributes, tags, email_status, sms_status FROM contacts WHERE workspace_id = $1 ORDER BY email NULLS LAST, phone`,
    [s.workspaceId],
  );

const importCount = async (s: Session) => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM import_jobs WHERE workspace_id = $1`, [s.workspaceId]))[0].n;

/** A contact straight in the table, with attribution and a consent record. */
async function seedContact(s: Session, c: { email: string; firstName?: string; phone?: string; attributes?: object; emailStatus?: string }): Promise<string> {
  const touch = { channel: 'instagram', utm_source: 'ig', utm_campaign: 'spring', referrer: 'https://l.instagram.com/', at: '2024-03-01T10:00:00.000Z' };
  const [row] = await t.sql<{ id: string }>(
    `INSERT INTO contacts (workspace_id, email, phone, first_name, attributes, tags, email_status, first_touch, last_touch, first_channel, last_channel)
     VALUES ($1, $2, $3, $4, $5::jsonb, '{vip}', $6, $7::jsonb, $7::jsonb, 'instagram', 'instagram') RETURNING id`,
    [s.workspaceId, c.email, c.phone ?? null, c.firstName ?? null, JSON.stringify(c.attributes ?? {}), c.emailStatus ?? 'subscribed', JSON.stringify(touch)],
  );
  await t.sql(
    `INSERT INTO consents (workspace_id, contact_id, channel, status, source, wording, created_at)
     VALUES ($1, $2, 'email', 'granted', 'form', 'Old wording', now() - interval '1 day'), ($1, $2, 'email', 'granted', 'form', 'Send me the newsletter', now())`,
    [s.workspaceId, row.id],
  );
  return row.id;
}

describe('CSV import', () => {
  it('imports good rows, reports bad ones by row and field, merges, skips the erased, records consent basis', async () => {
    const owner = await newWorkspace(t);
    const existing = uniqueEmail('grace');
    await seedContact(owner, { email: existing, firstName: 'Grace', attributes: { plan: 'silver', city: 'Oslo' } });
    const erased = uniqueEmail('erased');
    await t.sql(`INSERT INTO suppressions (workspace_id, identity_hash, reason) VALUES ($1, $2, 'erased')`, [owner.workspaceId, identityHash(erased)]);
    const unsubscribed = uniqueEmail('unsub');
    await seedContact(owner, { email: unsubscribed, emailStatus: 'unsubscribed' });
    const ada = uniqueEmail('ada');
    const csv = [
      'Email,Phone,First Name,last_name,tags,email_consent,sms_consent,plan',
      `${ada.toUpperCase()},+1 415 555 0101,Ada,Lovelace,vip;spring,yes,yes,gold`, // 2: new
      'not-an-email,,Bob,,,,,', // 3
      ',12,,,,,,', // 4
      ',,Nobody,,,,,', // 5
      `${existing.toUpperCase()},,,Hopper,,yes,,gold`, // 6: merged into Grace
      `${erased},,Eve,,,,,`, // 7: erased earlier
      `"${uniqueEmail('quote')}",,"=HYPERLINK(""http://evil.example"")",,,,,"two\nlines, ""quoted"""`, // 8
      `${uniqueEmail('maybe')},,,,,maybe,,`, // 9: rows are records, a quoted line break stays in its row
      '', // 10: blank line, not a data row
      `${uniqueEmail('wide')},,,,,,,,extra`, // 11
      `${unsubscribed},,,,,yes,,`, // 12: merged, consent not applied
    ].join('\r\n');
    const res = await importCsv(owner, csv, { consentBasis: 'Opted in at shop checkout 2024', tags: 'shop, import-2024' }).expect(202);
    expect(res.body).toMatchObject({ id: expect.any(String), status: 'queued', totalRows: 10, processedRows: 0, progress: 0, errors: [] });

    const done = await finished(owner, res.body.id);
    expect(done).toMatchObject({ status: 'completed', totalRows: 10, processedRows: 10, progress: 100, createdContacts: 2, updatedContacts: 2, failedRows: 6 });
    expect(done.errors).toEqual([
      { row: 3, field: 'email', message: 'not a valid email address' },
      { row: 4, field: 'phone', message: expect.stringContaining('not a valid phone number') },
      { row: 5, field: 'email', message: 'an email address or a phone number is required' },
      { row: 7, field: 'email', message: expect.stringContaining('erased') },
      { row: 9, field: 'email_consent', message: 'must be yes or no' },
      { row: 11, field: 'row', message: 'has 9 cells, the header has 8' },
      { row: 12, field: 'email_consent', message: 'not applied: this contact unsubscribed from email' },
    ]);
    expect(done.errorCount).toBe(7);

    const contacts = await contactsOf(owner);
    expect(contacts.find((c) => c.email === ada)).toEqual({
      email: ada,
      phone: '+14155550101',
      first_name: 'Ada',
      last_name: 'Lovelace',
      attributes: { plan: 'gold' },
      tags: ['import-2024', 'shop', 'spring', 'vip'],
      email_status: 'subscribed',
      sms_status: 'subscribed',
    });
    // Merged: the known first name and city stay, the file adds a last name and changes the plan.
    expect(contacts.find((c) => c.email === existing)).toMatchObject({ first_name: 'Grace', last_name: 'Hopper', attributes: { plan: 'gold', city: 'Oslo' } });
    expect(contacts.find((c) => c.email === unsubscribed)).toMatchObject({ email_status: 'unsubscribed' });
    // Stored as given: the formula is defused only on export.
    expect(contacts.find((c) => String(c.email).startsWith('quote-'))).toMatchObject({
      first_name: '=HYPERLINK("http://evil.example")',
      attributes: { plan: 'two\nlines, "quoted"' },
    });
    expect(contacts.map((c) => c.email)).not.toContain(erased);
    expect(contacts.map((c) => c.email)).not.toContain('not-an-email');

    const consents = await t.sql<Record<string, unknown>>(
      `SELECT c.email, k.channel, k.status, k.source, k.wording FROM consents k JOIN contacts c ON c.id = k.contact_id
        WHERE k.workspace_id = $1 AND k.source = 'import' ORDER BY c.email, k.channel`,
      [owner.workspaceId],
    );
    expect(consents).toEqual(
      [
        { email: ada, channel: 'email', status: 'granted', source: 'import', wording: 'Opted in at shop checkout 2024' },
        { email: ada, channel: 'sms', status: 'granted', source: 'import', wording: 'Opted in at shop checkout 2024' },
        { email: existing, channel: 'email', status: 'granted', source: 'import', wording: 'Opted in at shop checkout 2024' },
      ].sort((a, b) => a.email.localeCompare(b.email)),
    );
    // The uploaded file (personal data) is not kept once the import is done.
    expect((await t.sql<{ csv: string }>(`SELECT csv FROM import_jobs WHERE id = $1`, [res.body.id]))[0].csv).toBe('');
  });

  it('refuses bad request shapes with a clear 4xx and stores nothing', async () => {
    const owner = await newWorkspace(t);
    const cases: [string, number, string | undefined, Record<string, string>?][] = [
      ['', 400, 'body'],
      ['\r\n\r\n', 400, 'body'],
      ['email,first_name\r\n', 400, 'body'],
      ['name,plan\r\nAda,gold\r\n', 400, 'header'],
      ['email,email\r\na@example.com,b@example.com\r\n', 400, 'header.2'],
      ['email\r\n"a@example.com\r\n', 400, 'row 2'],
      ['email,email_consent\r\na@example.com,yes\r\n', 400, 'consentBasis'],
      ['email\r\na@example.com\r\n', 400, 'defaultCountry', { defaultCountry: 'Narnia' }],
      ['email\r\na@example.com\r\n', 400, 'colour', { colour: 'red' }],
    ];
    for (const [csv, status, field, query] of cases) {
      const res = await importCsv(owner, csv, query).expect(status);
      expectProblem(res.body, status, 'validation_failed');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    // Wrong content type: JSON, plain text, a form.
    const json = await t.http().post(`${base(owner)}/import`).set(...bearer(owner.accessToken)).send({ csv: 'email\na@example.com' }).expect(415);
    expectProblem(json.body, 415, 'unsupported_media_type');
    await t.http().post(`${base(owner)}/import`).set(...bearer(owner.accessToken)).set('content-type', 'text/plain').send('email\na@example.com').expect(415);
    await t.http().post(`${base(owner)}/import`).set(...bearer(owner.accessToken)).set('content-type', 'application/octet-stream').send('email\na@example.com').expect(415);
    // Over 50 MB.
    const huge = `email\r\n${'x'.repeat(50 * 1024 * 1024)}`;
    expectProblem((await importCsv(owner, huge).expect(413)).body, 413, 'payload_too_large');
    expect(await importCount(owner)).toBe(0);
    expect((await t.sql(`SELECT 1 FROM contacts WHERE workspace_id = $1`, [owner.workspaceId])).length).toBe(0);
  });

  it('accepts a file with a BOM, CRLF and a charset parameter, and honours Idempotency-Key', async () => {
    const owner = await newWorkspace(t);
    const csv = `\ufeffemail\r\n${uniqueEmail()}\r\n`;
    const send = (body: string) =>
      t.http().post(`${base(owner)}/import`).set(...bearer(owner.accessToken)).set('content-type', 'text/csv; charset=utf-8').set('idempotency-key', 'upload-0001').send(body);
    const first = await send(csv).expect(202);
    const again = await send(csv).expect(202);
    expect(again.body.id).toBe(first.body.id);
    expectProblem((await send(`email\r\n${uniqueEmail()}\r\n`).expect(422)).body, 422, 'idempotency_key_reused');
    expect(await importCount(owner)).toBe(1);
    expect(await finished(owner, first.body.id)).toMatchObject({ status: 'completed', createdContacts: 1 });
  });

  it('processes many rows in batches until progress is 100%, and lists imports with a cursor', async () => {
    const owner = await newWorkspace(t);
    const lines = ['email,phone,first_name'];
    for (let i = 0; i < 1_234; i++) lines.push(`bulk-${i}@example.com,+1415555${String(i).padStart(4, '0')},Person ${i}`);
    const done = await importAndWait(owner, lines.join('\n'));
    expect(done).toMatchObject({ status: 'completed', totalRows: 1_234, processedRows: 1_234, progress: 100, createdContacts: 1_234, failedRows: 0, errors: [] });
    // The same file again: every row merges into the contact it created.
    const again = await importAndWait(owner, lines.join('\n'));
    expect(again).toMatchObject({ createdContacts: 0, updatedContacts: 1_234 });
    expect((await contactsOf(owner)).length).toBe(1_234);

    const page1 = await t.http().get(`${base(owner)}/imports`).query({ limit: 1 }).set(...bearer(owner.accessToken)).expect(200);
    expect(page1.body.data).toEqual([expect.objectContaining({ id: again.id, status: 'completed', progress: 100 })]);
    expect(page1.body.data[0]).not.toHaveProperty('errors');
    const page2 = await t.http().get(`${base(owner)}/imports`).query({ limit: 1, cursor: page1.body.nextCursor }).set(...bearer(owner.accessToken)).expect(200);
    expect(page2.body).toEqual({ data: [expect.objectContaining({ id: done.id })], nextCursor: null });
  });

  it('keeps the first 1000 errors and counts them all', async () => {
    const owner = await newWorkspace(t);
    const lines = ['email'];
    for (let i = 0; i < 1_100; i++) lines.push(`bad-${i}`);
    lines.push(uniqueEmail());
    const done = await importAndWait(owner, lines.join('\n'));
    expect(done).toMatchObject({ status: 'completed', failedRows: 1_100, errorCount: 1_100, createdContacts: 1, errorsTruncated: true });
    expect(done.errors).toHaveLength(1_000);
    expect(done.errors[999]).toEqual({ row: 1_001, field: 'email', message: 'not a valid email address' });
  });

  describe('retry safety', () => {
    const handler = () => t.app.get(ContactsImportService);
    const insertImport = async (s: Session, csv: string, totalRows: number, processedRows = 0, status = 'queued') =>
      (
        await t.sql<{ id: string }>(
          `INSERT INTO import_jobs (workspace_id, csv, total_rows, processed_rows, status) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [s.workspaceId, csv, totalRows, processedRows, status],
        )
      )[0].id;
    const countsOf = async (id: string) =>
      (await t.sql(`SELECT status, processed_rows, created_contacts, updated_contacts, failed_rows, error_count FROM import_jobs WHERE id = $1`, [id]))[0];

    it('a repeated job changes nothing once its rows are committed', async () => {
      const owner = await newWorkspace(t);
      const csv = `email,first_name\n${uniqueEmail()},A\nbad,B\n${uniqueEmail()},C\n`;
      const done = await importAndWait(owner, csv);
      const before = await countsOf(done.id);
      await handler().process({ importId: done.id });
      // As if the worker died after the last batch committed, before it marked the import completed.
      await t.sql(`UPDATE import_jobs SET status = 'running', csv = $2 WHERE id = $1`, [done.id, csv]);
      await handler().process({ importId: done.id });
      await handler().process({ importId: done.id });
      expect(await countsOf(done.id)).toEqual(before);
      expect(before).toMatchObject({ status: 'completed', processed_rows: 3, created_contacts: 2, failed_rows: 1 });
    });

    it('a retried job resumes after the rows an earlier run committed', async () => {
      const owner = await newWorkspace(t);
      const emails = [1, 2, 3, 4].map((i) => uniqueEmail(`r${i}`));
      // An earlier run committed the first two rows' batch, then died.
      const id = await insertImport(owner, `email\n${emails.join('\n')}\n`, 4, 2, 'running');
      await t.sql(`UPDATE import_jobs SET created_contacts = 2 WHERE id = $1`, [id]);
      await handler().process({ importId: id });
      expect(await countsOf(id)).toMatchObject({ status: 'completed', processed_rows: 4, created_contacts: 4 });
      expect((await contactsOf(owner)).map((c) => c.email)).toEqual(emails.slice(2).sort());
    });

    it('two runs of the same job at once count every row once', async () => {
      const owner = await newWorkspace(t);
      const lines = ['email'];
      for (let i = 0; i < 1_600; i++) lines.push(`twice-${i}-${randomUUID().slice(0, 6)}@example.com`);
      const id = await insertImport(owner, lines.join('\n'), 1_600);
      await Promise.all([handler().process({ importId: id }), handler().process({ importId: id })]);
      expect(await countsOf(id)).toMatchObject({ status: 'completed', processed_rows: 1_600, created_contacts: 1_600, updated_contacts: 0 });
      expect((await contactsOf(owner)).length).toBe(1_600);
    });
  });
});

/** The export as text: CSV records (BOM stripped by the parser) or NDJSON objects. */
const exportOf = async (s: Session, format: 'csv' | 'ndjson', token = s.accessToken) => {
  const res = await t
    .http()
    .get(`${base(s)}/export`)
    .query({ format })
    .set(...bearer(token))
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (text += d));
      r.on('end', () => cb(null, text));
    })
    .expect(200);
  return { res, text: res.body as string };
};

describe('export', () => {
  it('streams CSV with attribution and the latest consents, formula-safe and quoted', async () => {
    const owner = await newWorkspace(t);
    const email = uniqueEmail('exp');
    const id = await seedContact(owner, { email, phone: '+14155550199', firstName: '=HYPERLINK("http://evil.example")', attributes: { note: 'say "hi",\nbye', n: 3 } });
    const { res, text } = await exportOf(owner, 'csv');
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="contacts-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(text.startsWith('\ufeffid,email,phone,')).toBe(true);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    const [header, ...records] = [...parseCsv(text)].map((r) => r.cells);
    expect(header).toEqual(CSV_HEADER);
    expect(records).toHaveLength(1);
    const row = Object.fromEntries(header.map((h, k) => [h, records[0][k]]));
    expect(row).toMatchObject({
      id,
      email,
      phone: "'+14155550199",
      first_name: `'=HYPERLINK("http://evil.example")`,
      tags: 'vip',
      email_status: 'subscribed',
      sms_status: 'none',
      email_consent_status: 'granted',
      email_consent_source: 'form',
      email_consent_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      email_consent_wording: 'Send me the newsletter',
      sms_consent_status: '',
      first_channel: 'instagram',
      first_touch_utm_source: 'ig',
      first_touch_utm_campaign: 'spring',
      first_touch_referrer: 'https://l.instagram.com/',
      first_touch_at: '2024-03-01T10:00:00.000Z',
      last_channel: 'instagram',
      last_touch_utm_medium: '',
    });
    expect(JSON.parse(row.attributes)).toEqual({ note: 'say "hi",\nbye', n: 3 });
  });

  it('streams NDJSON, one contact object per line', async () => {
    const owner = await newWorkspace(t);
    const email = uniqueEmail('nd');
    await seedContact(owner, { email, firstName: 'Line\nBreak "q"', attributes: { plan: 'gold' } });
    await seedContact(owner, { email: uniqueEmail('nd2') });
    const { res, text } = await exportOf(owner, 'ndjson');
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="contacts-.+\.ndjson"$/);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toEqual({
      id: expect.any(String),
      email,
      phone: null,
      firstName: 'Line\nBreak "q"',
      lastName: null,
      tags: ['vip'],
      attributes: { plan: 'gold' },
      emailStatus: 'subscribed',
      smsStatus: 'none',
      consents: { email: { status: 'granted', source: 'form', at: expect.any(String), wording: 'Send me the newsletter' }, sms: null },
      firstChannel: 'instagram',
      lastChannel: 'instagram',
      firstTouch: expect.objectContaining({ utm_source: 'ig', channel: 'instagram' }),
      lastTouch: expect.objectContaining({ utm_campaign: 'spring' }),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('streams a large set completely (20,000 contacts)', async () => {
    const owner = await newWorkspace(t);
    await t.sql(
      `INSERT INTO contacts (workspace_id, email, phone, first_name, attributes, tags, first_touch, first_channel, created_at)
       SELECT $1, 'big-' || i || '@example.com', '+1' || (2000000000 + i), 'Name ' || i, jsonb_build_object('i', i), '{bulk}',
              jsonb_build_object('channel', 'facebook', 'utm_source', 'fb'), 'facebook', now() - make_interval(secs => 20000 - i)
         FROM generate_series(1, 20000) AS i`,
      [owner.workspaceId],
    );
    const csv = await exportOf(owner, 'csv');
    const records = [...parseCsv(csv.text)];
    expect(records).toHaveLength(20_001);
    expect(new Set(records.slice(1).map((r) => r.cells[0])).size).toBe(20_000);
    // Oldest first.
    expect(records[1].cells[1]).toBe('big-1@example.com');
    expect(records[20_000].cells[1]).toBe('big-20000@example.com');
    const nd = await exportOf(owner, 'ndjson');
    const lines = nd.text.trimEnd().split('\n');
    expect(lines).toHaveLength(20_000);
    expect(JSON.parse(lines[19_999])).toMatchObject({ email: 'big-20000@example.com', attributes: { i: 20000 }, firstChannel: 'facebook' });
  });

  it('gives the connection back when the client goes away mid-export', async () => {
    const owner = await newWorkspace(t);
    await t.sql(
      `INSERT INTO contacts (workspace_id, email) SELECT $1, 'gone-' || i || '@example.com' FROM generate_series(1, 20000) AS i`,
      [owner.workspaceId],
    );
    // A real socket to hang up on: supertest would read the whole body.
    const server = t.app.getHttpServer();
    if (!server.address()) await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.address() as AddressInfo;
    const open = async () =>
      (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'leadnest-export'`))[0].n;
    for (const format of ['ndjson', 'csv']) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ port, path: `${base(owner)}/export?format=${format}`, headers: { authorization: `Bearer ${owner.accessToken}` } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
        req.end();
      });
      // The export's own connection is closed, not left blocked mid-COPY.
      const deadline = Date.now() + 5_000;
      while ((await open()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await open()).toBe(0);
    }
    expect((await exportOf(owner, 'ndjson')).text.trimEnd().split('\n')).toHaveLength(20_000);
  });
});

describe('access', () => {
  it('is isolated per workspace on every route', async () => {
    const a = await newWorkspace(t, 'a');
    const b = await newWorkspace(t, 'b');
    const bKey = await createKey(t, b, 'secret', 'admin');
    const aEmail = uniqueEmail('a-only');
    const aImport = await importAndWait(a, `email\n${aEmail}\n`);
    for (const token of [b.accessToken, bKey.key]) {
      // B's credentials on A's workspace routes.
      await t.http().get(`${base(a)}/imports/${aImport.id}`).set(...bearer(token)).expect(404);
      await t.http().get(`${base(a)}/imports`).set(...bearer(token)).expect(404);
      await importCsv(a, `email\n${uniqueEmail()}\n`, {}, token).expect(404);
      await t.http().get(`${base(a)}/export`).set(...bearer(token)).expect(404);
      // B's own workspace with A's import id.
      const own = await t.http().get(`${base(b)}/imports/${aImport.id}`).set(...bearer(token)).expect(404);
      expectProblem(own.body, 404, 'not_found');
    }
    expect((await t.http().get(`${base(b)}/imports`).set(...bearer(b.accessToken)).expect(200)).body.data).toEqual([]);
    await t.http().get(`${base(b)}/imports/${randomUUID()}`).set(...bearer(b.accessToken)).expect(404);
    await t.http().get(`${base(b)}/imports/not-a-uuid`).set(...bearer(b.accessToken)).expect(400);
    // B imports the same address: B gets its own contact, A's is untouched, and B's export has only B's.
    await importAndWait(b, `email,first_name\n${aEmail},FromB\n`);
    for (const format of ['csv', 'ndjson'] as const) {
      const { text } = await exportOf(b, format, bKey.key);
      const [bContact] = await t.sql<{ id: string }>(`SELECT id FROM contacts WHERE workspace_id = $1`, [b.workspaceId]);
      const [aContact] = await t.sql<{ id: string }>(`SELECT id FROM contacts WHERE workspace_id = $1`, [a.workspaceId]);
      expect(text).toContain(bContact.id);
      expect(text).not.toContain(aContact.id);
    }
    expect((await t.sql(`SELECT first_name FROM contacts WHERE workspace_id = $1`, [a.workspaceId]))[0]).toEqual({ first_name: null });
  });

  it('lets viewers read imports but not import or export', async () => {
    const owner = await newWorkspace(t);
    const viewer = await addMember(t, owner, 'viewer');
    const viewerKey = await createKey(t, owner, 'secret', 'viewer');
    const done = await importAndWait(owner, `email\n${uniqueEmail()}\n`);
    for (const token of [viewer.accessToken, viewerKey.key]) {
      expectProblem((await importCsv(owner, `email\n${uniqueEmail()}\n`, {}, token).expect(403)).body, 403, 'insufficient_role');
      await t.http().get(`${base(owner)}/export`).set(...bearer(token)).expect(403);
      await t.http().get(`${base(owner)}/imports/${done.id}`).set(...bearer(token)).expect(200);
      await t.http().get(`${base(owner)}/imports`).set(...bearer(token)).expect(200);
    }
    const marketer = await addMember(t, owner, 'marketer');
    await importCsv(owner, `email\n${uniqueEmail()}\n`, {}, marketer.accessToken).expect(202);
    await t.http().get(`${base(owner)}/export`).set(...bearer(marketer.accessToken)).expect(200);
    await t.http().post(`${base(owner)}/import`).set('content-type', 'text/csv').send('email\na@example.com').expect(401);
    expect(await importCount(owner)).toBe(2);
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = await t.http().get('/docs/openapi.json').expect(200);
    const paths = Object.keys(doc.body.paths);
    for (const p of ['/contacts/import', '/contacts/imports', '/contacts/imports/{importId}', '/contacts/export']) {
      expect(paths).toContain(`/v1/workspaces/{workspaceId}${p}`);
    }
    expect(doc.body.paths['/v1/workspaces/{workspaceId}/contacts/import'].post.requestBody.content).toHaveProperty(['text/csv']);
  });
});
