import { ConfirmationsService } from '../src/forms/confirmations.service.js';
import { newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { FakeProvider } from './support/fake-provider.js';
import { newForm, submit } from './support/forms.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const sendgrid = new FakeProvider();
let t: TestApp;
let owner: Session;
beforeAll(async () => {
  const url = await sendgrid.start();
  t = await createTestApp({ EMAIL_TRANSPORT: 'sendgrid', SENDGRID_API_KEY: 'SG.fake-key-for-tests', SENDGRID_API_URL: url, EMAIL_FROM: 'Acme <hello@acme.example>' });
  owner = await newWorkspace(t);
});
afterAll(async () => {
  await t.close();
  await sendgrid.stop();
});

async function message(submissionId: string): Promise<{ status: string; provider: string | null; provider_message_id: string | null; error: string | null } | undefined> {
  const [row] = await t.sql<{ status: string; provider: string | null; provider_message_id: string | null; error: string | null }>(
    `SELECT status, provider, provider_message_id, error FROM messages WHERE dedupe_key = $1`,
    [`double_opt_in:${submissionId}`],
  );
  return row;
}

describe('confirmation email through SendGrid', () => {
  it('sends with the real SDK: key, sender, recipient and the confirmation link', async () => {
    const form = await newForm(t, owner, { doubleOptIn: true });
    const email = uniqueEmail('sg');
    const res = await submit(t, form.id, { fields: { email, first_name: 'Ada' }, consent: { newsletter: true } }).expect(202);
    for (let i = 0; i < 100 && (await message(res.body.submissionId))?.status !== 'sent'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await message(res.body.submissionId)).toMatchObject({ status: 'sent', provider: 'sendgrid', provider_message_id: 'fake-msg-1' });
    const request = sendgrid.requests.find((r) => r.body.includes(email));
    expect(request).toMatchObject({ method: 'POST', path: '/v3/mail/send' });
    expect(request?.headers.authorization).toBe('Bearer SG.fake-key-for-tests');
    const body = JSON.parse(request?.body ?? '{}') as { from: { email: string }; personalizations: { to: { email: string }[] }[]; content: { type: string; value: string }[] };
    expect(body.from.email).toBe('hello@acme.example');
    expect(body.personalizations[0].to[0].email).toBe(email);
    const text = body.content.find((c) => c.type === 'text/plain')?.value ?? '';
    const token = /\/v1\/public\/confirm\/(cf_[\w-]+)/.exec(text)?.[1];
    expect(token).toBeDefined();
    await t.http().get(`/v1/public/confirm/${token}`).expect(200);
    const [contact] = await t.sql<{ email_status: string }>(`SELECT email_status FROM contacts WHERE email = $1`, [email]);
    expect(contact.email_status).toBe('subscribed');
  });

  it('survives a provider outage: the failure is recorded, the retry sends, and never twice', async () => {
    const confirmations = t.app.get(ConfirmationsService);
    const form = await newForm(t, owner, { doubleOptIn: true });
    const email = uniqueEmail('outage');
    // The outage starts before the job runs: the first attempt fails.
    sendgrid.queue.push({ status: 503, body: { errors: [{ message: 'service unavailable' }] } });
    const res = await submit(t, form.id, { fields: { email }, consent: { newsletter: true } }).expect(202);
    const submissionId = res.body.submissionId as string;
    for (let i = 0; i < 100 && (await message(submissionId))?.status !== 'failed'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await message(submissionId)).toMatchObject({ status: 'failed', error: expect.any(String) });
    // The provider is back: the retry (pg-boss would run it after its delay) sends it.
    await confirmations.sendConfirmation({ submissionId });
    expect(await message(submissionId)).toMatchObject({ status: 'sent', error: null });
    const sentTo = () => sendgrid.requests.filter((r) => r.body.includes(email)).length;
    const attempts = sentTo();
    // A late duplicate retry sends nothing more.
    await confirmations.sendConfirmation({ submissionId });
    expect(sentTo()).toBe(attempts);
  });
});
