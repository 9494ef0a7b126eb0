import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { IDEMPOTENCY_KEY_TAKEN, type NewSubmission } from '../src/forms/submission.statement.js';
import { SubmissionsRepository } from '../src/forms/submissions.repository.js';
import { bearer, expectProblem, newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { FORM_BODY, newForm, submit } from './support/forms.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let owner: Session;
beforeAll(async () => {
  t = await createTestApp({ SUBMISSION_LIMIT_PER_IP: 1000 });
  owner = await newWorkspace(t);
});
afterAll(() => t.close());

const admin = (path = '') => `/v1/workspaces/${owner.workspaceId}/forms${path}`;
const count = async (sql: string, params: unknown[]) => (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n;

describe('forms admin', () => {
  it('creates, reads, lists, versions on change, archives', async () => {
    const form = await newForm(t, owner);
    expect(form).toMatchObject({ version: 1, status: 'active', title: 'Win a cake', hostedUrl: expect.stringContaining(`/f/${form.slug}`) });
    const changed = await t.http().patch(admin(`/${form.id}`)).set(...bearer(owner.accessToken)).send({ title: 'Win two cakes' }).expect(200);
    expect(changed.body).toMatchObject({ version: 2, title: 'Win two cakes', fields: FORM_BODY.fields.map((f) => expect.objectContaining({ key: f.key })) });
    const versions = await t.sql<{ version: number; title: string }>(`SELECT version, definition->>'title' AS title FROM form_versions WHERE form_id = $1 ORDER BY version`, [form.id]);
    expect(versions).toEqual([{ version: 1, title: 'Win a cake' }, { version: 2, title: 'Win two cakes' }]);
    const list = await t.http().get(admin()).set(...bearer(owner.accessToken)).expect(200);
    expect(list.body.data.map((f: { id: string }) => f.id)).toContain(form.id);
    await t.http().patch(admin(`/${form.id}`)).set(...bearer(owner.accessToken)).send({ status: 'archived' }).expect(200);
    await t.http().get(`/v1/public/forms/${form.id}`).expect(404);
  });

  it('refuses unusable definitions, naming the problem', async () => {
    const noAddress = await t.http().post(admin()).set(...bearer(owner.accessToken)).send({ name: 'x', fields: [{ key: 'nick', type: 'text', label: 'Nick' }] }).expect(400);
    expect(noAddress.body.errors).toEqual([expect.objectContaining({ field: 'fields' })]);
    const dup = await t
      .http()
      .post(admin())
      .set(...bearer(owner.accessToken))
      .send({ name: 'x', fields: [{ key: 'email', type: 'email', label: 'a' }, { key: 'email', type: 'email', label: 'b' }] })
      .expect(400);
    expect(dup.body.errors).toEqual([expect.objectContaining({ field: 'fields.1.key' })]);
    const badPattern = await t.http().post(admin()).set(...bearer(owner.accessToken)).send({ name: 'x', fields: [{ key: 'email', type: 'email', label: 'E' }, { key: 'c', type: 'text', label: 'C', pattern: '(' }] }).expect(400);
    expect(badPattern.body.errors).toEqual([expect.objectContaining({ field: 'fields.1.pattern' })]);
    const unknown = await t.http().post(admin()).set(...bearer(owner.accessToken)).send({ ...FORM_BODY, colour: 'red' }).expect(400);
    expect(unknown.body.errors).toEqual([{ field: 'colour', message: 'unknown field' }]);
    await t.http().post(admin()).set(...bearer(owner.accessToken)).send({ ...FORM_BODY, allowedOrigins: ['https://x.example/path'] }).expect(400);
  });

  it('keeps slugs unique and refuses to delete a form that has submissions', async () => {
    const a = await newForm(t, owner, { slug: `cakes-${randomUUID().slice(0, 6)}` });
    const taken = await t.http().post(admin()).set(...bearer(owner.accessToken)).send({ ...FORM_BODY, slug: a.slug }).expect(409);
    expectProblem(taken.body, 409, 'slug_taken');
    await submit(t, a.id, { fields: { email: uniqueEmail() }, consent: { newsletter: true } }).expect(201);
    expectProblem((await t.http().delete(admin(`/${a.id}`)).set(...bearer(owner.accessToken)).expect(409)).body, 409, 'form_has_submissions');
    const b = await newForm(t, owner);
    await t.http().delete(admin(`/${b.id}`)).set(...bearer(owner.accessToken)).expect(204);
  });

  it('is isolated per workspace, and viewers cannot write', async () => {
    const form = await newForm(t, owner);
    const other = await newWorkspace(t, 'other');
    for (const [method, path] of [['get', `/${form.id}`], ['patch', `/${form.id}`], ['delete', `/${form.id}`]] as const) {
      const req = t.http()[method](`/v1/workspaces/${owner.workspaceId}/forms${path}`).set(...bearer(other.accessToken));
      await (method === 'patch' ? req.send({ title: 'x' }) : req).expect(404);
      // B's own workspace path with A's form id: not found either.
      const own = t.http()[method](`/v1/workspaces/${other.workspaceId}/forms${path}`).set(...bearer(other.accessToken));
      await (method === 'patch' ? own.send({ title: 'x' }) : own).expect(404);
    }
    const list = await t.http().get(`/v1/workspaces/${other.workspaceId}/forms`).set(...bearer(other.accessToken)).expect(200);
    expect(list.body.data).toEqual([]);
  });
});

describe('public submission', () => {
  it('serves the public definition by id and by slug', async () => {
    const form = await newForm(t, owner);
    const byId = await t.http().get(`/v1/public/forms/${form.id}`).expect(200);
    expect(byId.body).toMatchObject({ id: form.id, honeypotField: 'website', consents: [expect.objectContaining({ key: 'newsletter' }), expect.anything()] });
    expect(byId.body).not.toHaveProperty('allowedOrigins');
    expect(byId.body).not.toHaveProperty('workspaceId');
    await t.http().get(`/v1/public/forms/${form.slug}`).expect(200);
    await t.http().get(`/v1/public/forms/${randomUUID()}`).expect(404);
  });

  it('stores contact, submission, consent ledger and attribution in one go', async () => {
    const form = await newForm(t, owner);
    const email = uniqueEmail('lead');
    const res = await submit(t, form.id, {
      fields: { email: `  ${email.toUpperCase()} `, first_name: 'Ada', phone: '(415) 555-2671', size: 'M', age: '33', code: 'ABC-12' },
      consent: { newsletter: true, texts: true },
      context: { url: 'https://shop.example/?utm_source=ig', referrer: 'https://l.instagram.com/', utm_source: 'ig', utm_campaign: 'spring' },
    })
      .set('user-agent', 'Test Browser 1.0')
      .expect(201);
    expect(res.body).toEqual({ submissionId: expect.any(String), status: 'received', message: expect.any(String), redirectUrl: null });
    const [contact] = await t.sql<Record<string, unknown>>(
      `SELECT email, phone, first_name, attributes, tags, email_status, sms_status, first_channel, last_channel, first_touch FROM contacts WHERE workspace_id = $1 AND email = $2`,
      [owner.workspaceId, email],
    );
    expect(contact).toMatchObject({
      email,
      phone: '+14155552671',
      first_name: 'Ada',
      attributes: { size: 'M', age: 33, code: 'ABC-12' },
      tags: ['giveaway'],
      email_status: 'subscribed',
      sms_status: 'subscribed',
      first_channel: 'instagram',
      last_channel: 'instagram',
      first_touch: expect.objectContaining({ utm_campaign: 'spring', referrer: 'https://l.instagram.com/' }),
    });
    const consents = await t.sql<Record<string, unknown>>(
      `SELECT channel, status, source, form_version, wording, host(ip) AS ip, user_agent FROM consents WHERE submission_id = $1 ORDER BY channel`,
      [res.body.submissionId],
    );
    expect(consents).toEqual([
      { channel: 'email', status: 'granted', source: 'form', form_version: 1, wording: FORM_BODY.consents[0].text, ip: '127.0.0.1', user_agent: 'Test Browser 1.0' },
      { channel: 'sms', status: 'granted', source: 'form', form_version: 1, wording: FORM_BODY.consents[1].text, ip: '127.0.0.1', user_agent: 'Test Browser 1.0' },
    ]);
  });

  it('dedupes by email then phone and merges without erasing known values', async () => {
    const form = await newForm(t, owner);
    const email = uniqueEmail('merge');
    await submit(t, form.id, { fields: { email, first_name: 'Grace', phone: '+1 415 555 0100' }, consent: { newsletter: true }, context: { utm_source: 'facebook' } }).expect(201);
    // Same person, by email, with no name and a different source: name kept, last touch updated.
    await submit(t, form.id, { fields: { email: email.toUpperCase() }, consent: { newsletter: true }, context: { referrer: 'https://wa.me/1' } }).expect(201);
    // Same person, by phone only, from another form without an email field.
    const phoneForm = await newForm(t, owner, { fields: [{ key: 'phone', type: 'phone', label: 'Phone', required: true }, { key: 'last_name', type: 'last_name', label: 'Last' }], consents: [] });
    await submit(t, phoneForm.id, { fields: { phone: '(415) 555-0100', last_name: 'Hopper' } }).expect(201);
    const rows = await t.sql<Record<string, unknown>>(
      `SELECT email, phone, first_name, last_name, first_channel, last_channel FROM contacts WHERE workspace_id = $1 AND (email = $2 OR phone = '+14155550100')`,
      [owner.workspaceId, email],
    );
    expect(rows).toEqual([{ email, phone: '+14155550100', first_name: 'Grace', last_name: 'Hopper', first_channel: 'facebook', last_channel: 'direct' }]);
    expect(await count('submissions s JOIN contacts c ON c.id = s.contact_id WHERE c.email = $1', [email])).toBe(3);
  });

  it('honours Idempotency-Key: same key, same answer, one row; another body with it is refused', async () => {
    const form = await newForm(t, owner);
    const email = uniqueEmail('idem');
    const body = { fields: { email }, consent: { newsletter: true } };
    const key = `key-${randomUUID()}`;
    const answers = await Promise.all([1, 2, 3].map(() => submit(t, form.id, body).set('idempotency-key', key)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.submissionId)).size).toBe(1);
    expect(await count('submissions WHERE form_id = $1', [form.id])).toBe(1);
    const other = await submit(t, form.id, { fields: { email: uniqueEmail() }, consent: { newsletter: true } }).set('idempotency-key', key).expect(422);
    expectProblem(other.body, 422, 'idempotency_key_reused');
  });

  it('makes one contact of a first sign-up sent several times at once', async () => {
    const form = await newForm(t, owner);
    const email = uniqueEmail('burst');
    const answers = await Promise.all(Array.from({ length: 6 }, () => submit(t, form.id, { fields: { email }, consent: { newsletter: true } })));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(await count('contacts WHERE workspace_id = $1 AND email = $2', [owner.workspaceId, email])).toBe(1);
    expect(await count('submissions s JOIN contacts c ON c.id = s.contact_id WHERE c.email = $1', [email])).toBe(6);
    expect(await count(`domain_events d JOIN contacts c ON c.id = d.contact_id WHERE c.email = $1 AND d.type = 'form.submitted'`, [email])).toBe(6);
    // The form's tag is new to the person once only.
    expect(await count(`domain_events d JOIN contacts c ON c.id = d.contact_id WHERE c.email = $1 AND d.type = 'tag.added'`, [email])).toBe(1);
  });

  it('leaves nothing behind when it loses an Idempotency-Key race', async () => {
    const form = await newForm(t, owner);
    const ds = t.app.get(DataSource);
    const repo = t.app.get(SubmissionsRepository);
    const key = `race-${randomUUID()}`;
    const attempt = (email: string): NewSubmission => ({
      workspaceId: owner.workspaceId,
      formId: form.id,
      formVersion: form.version,
      contact: { email, phone: null, firstName: null, lastName: null, attributes: {}, tags: ['race'], touch: null, emailConsent: 'subscribed', smsConsent: null },
      values: { email },
      context: {},
      channel: 'direct',
      ip: '127.0.0.1',
      userAgent: null,
      status: 201,
      idempotencyKey: key,
      requestHash: email,
      consents: [{ channel: 'email', status: 'granted', wording: 'Yes' }],
      anonymousId: null,
      eventProperties: { formId: form.id },
    });
    const winner = uniqueEmail('winner');
    const loser = uniqueEmail('loser');
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const first = await repo.record(runner.manager, attempt(winner));
    // Waits on the first one's key, which then commits: the second statement must undo itself.
    const second = repo.record(ds, attempt(loser)).then(
      () => 'recorded',
      (err: { code?: string }) => err.code,
    );
    await new Promise((r) => setTimeout(r, 300));
    await runner.commitTransaction();
    await runner.release();
    expect(await second).toBe(IDEMPOTENCY_KEY_TAKEN);
    expect(await count('submissions WHERE form_id = $1 AND idempotency_key = $2', [form.id, key])).toBe(1);
    expect(await count('contacts WHERE workspace_id = $1 AND email = $2', [owner.workspaceId, loser])).toBe(0);
    expect(await count('contacts WHERE id = $1', [first.contactId])).toBe(1);
    expect(await count('consents WHERE form_id = $1', [form.id])).toBe(1);
    expect(await count(`domain_events WHERE workspace_id = $1 AND properties->>'formId' = $2`, [owner.workspaceId, form.id])).toBe(2);
  });

  it('answers 202 with double opt-in, sends the confirmation through the log transport, and confirms', async () => {
    const form = await newForm(t, owner, { doubleOptIn: true });
    const email = uniqueEmail('doi');
    const res = await submit(t, form.id, { fields: { email }, consent: { newsletter: true } }).expect(202);
    expect(res.body.status).toBe('confirmation_pending');
    const contactStatus = async () => (await t.sql<{ email_status: string }>(`SELECT email_status FROM contacts WHERE email = $1`, [email]))[0].email_status;
    expect(await contactStatus()).toBe('pending');
    // The job renders the message into the ledger; the link carries the token.
    let message: { body: string; status: string } | undefined;
    for (let i = 0; i < 100 && message?.status !== 'sent'; i++) {
      [message] = await t.sql<{ body: string; status: string }>(`SELECT body, status FROM messages WHERE dedupe_key = $1`, [`double_opt_in:${res.body.submissionId}`]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(message?.status).toBe('sent');
    const link = /\/v1\/public\/confirm\/(cf_[\w-]+)/.exec(message?.body ?? '');
    expect(link).not.toBeNull();
    const page = await t.http().get(`/v1/public/confirm/${link?.[1]}`).expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(await contactStatus()).toBe('subscribed');
    await t.http().get(`/v1/public/confirm/${link?.[1]}`).expect(200);
    const ledger = await t.sql<{ status: string }>(`SELECT c.status FROM consents c JOIN contacts k ON k.id = c.contact_id WHERE k.email = $1 ORDER BY c.created_at`, [email]);
    expect(ledger.map((l) => l.status)).toEqual(['pending', 'confirmed']);
    await t.http().get('/v1/public/confirm/cf_unknown').expect(404);
    // A second sign-up by a known person looks exactly like a new one.
    const again = await submit(t, form.id, { fields: { email }, consent: { newsletter: true } }).expect(202);
    expect(Object.keys(again.body).sort()).toEqual(Object.keys(res.body).sort());
    expect(await contactStatus()).toBe('subscribed');
  });

  it('stitches the visitor\'s anonymous id to the contact', async () => {
    const form = await newForm(t, owner);
    const anonymousId = `anon_${randomUUID()}`;
    await t.sql(`INSERT INTO events (workspace_id, type, anonymous_id, occurred_at) VALUES ($1, 'page_view', $2, now()), ($1, 'form_view', $2, now())`, [owner.workspaceId, anonymousId]);
    const email = uniqueEmail('anon');
    await submit(t, form.id, { fields: { email }, consent: { newsletter: true }, context: { anonymousId } }).expect(201);
    const stitched = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM events e JOIN contacts c ON c.id = e.contact_id WHERE c.email = $1`, [email]);
    expect(stitched[0].n).toBe(2);
  });

  describe('bad input: a clear 4xx and nothing stored', () => {
    let formId: string;
    beforeAll(async () => {
      formId = (await newForm(t, owner, { allowedOrigins: ['https://shop.example'], minFillSeconds: 3 })).id;
    });
    const email = uniqueEmail('bad');
    const cases: [string, Record<string, unknown>, number, string[]][] = [
      ['a missing required field', { fields: { first_name: 'x' }, consent: { newsletter: true } }, 400, ['fields.email']],
      ['an invalid email', { fields: { email: 'nope@' }, consent: { newsletter: true } }, 400, ['fields.email']],
      ['an invalid phone', { fields: { email, phone: '12' }, consent: { newsletter: true } }, 400, ['fields.phone']],
      ['a missing required consent', { fields: { email }, consent: {} }, 400, ['consent.newsletter']],
      ['a wrong type', { fields: { email, age: 'old' }, consent: { newsletter: true } }, 400, ['fields.age']],
      ['an option not offered', { fields: { email, size: 'XXL' }, consent: { newsletter: true } }, 400, ['fields.size']],
      ['a pattern mismatch', { fields: { email, code: 'abc' }, consent: { newsletter: true } }, 400, ['fields.code']],
      ['an oversized value', { fields: { email, first_name: 'x'.repeat(5000) }, consent: { newsletter: true } }, 400, ['fields.first_name']],
      ['an unknown field', { fields: { email, is_admin: true }, consent: { newsletter: true } }, 400, ['fields.is_admin']],
      ['an unknown top-level field', { fields: { email }, consent: { newsletter: true }, admin: true }, 400, ['admin']],
      ['an unknown consent item', { fields: { email }, consent: { newsletter: true, marketing: true } }, 400, ['consent.marketing']],
      ['fields not an object', { fields: 'email=a@b.c' }, 400, ['fields']],
      ['consent not an object', { fields: { email }, consent: true }, 400, ['consent']],
      ['an unknown context field', { fields: { email }, consent: { newsletter: true }, context: { utm_foo: 'x' } }, 400, ['context.utm_foo']],
      ['an oversized context value', { fields: { email }, consent: { newsletter: true }, context: { utm_source: 'x'.repeat(201) } }, 400, ['context.utm_source']],
      ['a malformed anonymous id', { fields: { email }, consent: { newsletter: true }, context: { anonymousId: 'not ok' } }, 400, ['context.anonymousId']],
      ['startedAt not a time', { fields: { email }, consent: { newsletter: true }, startedAt: 'soon' }, 400, ['startedAt']],
      ['a body that is not an object', [{ fields: { email } }] as unknown as Record<string, unknown>, 400, ['fields']],
    ];
    it.each(cases)('%s', async (_, body, status, fields) => {
      const res = await submit(t, formId, body).expect(status);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(fields));
      expect(await count('submissions WHERE form_id = $1', [formId])).toBe(0);
    });

    it('HTML and script in values are stored as text', async () => {
      const hostile = '<script>alert(1)</script>';
      const res = await submit(t, formId, { fields: { email, first_name: hostile }, consent: { newsletter: true } }).set('origin', 'https://shop.example').expect(201);
      const [row] = await t.sql<{ first_name: string }>(`SELECT first_name FROM contacts WHERE email = $1`, [email]);
      expect(row.first_name).toBe(hostile);
      await t.sql(`DELETE FROM submissions WHERE id = $1`, [res.body.submissionId]);
    });

    it('a wrong origin is 403', async () => {
      const res = await submit(t, formId, { fields: { email: uniqueEmail() }, consent: { newsletter: true } }).set('origin', 'https://evil.example').expect(403);
      expectProblem(res.body, 403, 'origin_not_allowed');
      expect(await count('submissions WHERE form_id = $1', [formId])).toBe(0);
    });

    it('the honeypot and a too-fast fill are refused as spam', async () => {
      expectProblem((await submit(t, formId, { fields: { email: uniqueEmail() }, consent: { newsletter: true }, website: 'http://spam' }).expect(422)).body, 422, 'spam_suspected');
      await submit(t, formId, { fields: { email: uniqueEmail() }, consent: { newsletter: true }, startedAt: Date.now() - 500 }).expect(422);
      expect(await count('submissions WHERE form_id = $1', [formId])).toBe(0);
    });

    it('an archived or unknown form is 404; an oversized body is 413', async () => {
      const archived = await newForm(t, owner);
      await t.http().patch(admin(`/${archived.id}`)).set(...bearer(owner.accessToken)).send({ status: 'archived' }).expect(200);
      await submit(t, archived.id, { fields: { email: uniqueEmail() }, consent: { newsletter: true } }).expect(404);
      await submit(t, randomUUID(), { fields: { email: uniqueEmail() } }).expect(404);
      const huge = await submit(t, formId, { fields: { email: uniqueEmail(), first_name: 'x'.repeat(t.config.PUBLIC_BODY_LIMIT_BYTES) } }).expect(413);
      expectProblem(huge.body, 413, 'payload_too_large');
      expect(await count('submissions WHERE form_id = $1', [formId])).toBe(0);
    });
  });
});

describe('CORS per form', () => {
  it('answers preflight for allowed origins only', async () => {
    const form = await newForm(t, owner, { allowedOrigins: ['https://shop.example'] });
    const ok = await t.http().options(`/v1/public/forms/${form.id}/submissions`).set('origin', 'https://shop.example').set('access-control-request-method', 'POST').set('access-control-request-headers', 'content-type,idempotency-key');
    expect(ok.headers['access-control-allow-origin']).toBe('https://shop.example');
    const no = await t.http().options(`/v1/public/forms/${form.id}/submissions`).set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
    const open = await newForm(t, owner);
    const any = await t.http().options(`/v1/public/forms/${open.id}/submissions`).set('origin', 'https://anywhere.example').set('access-control-request-method', 'POST');
    expect(any.headers['access-control-allow-origin']).toBe('https://anywhere.example');
  });
});
