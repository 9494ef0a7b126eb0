import { bearer, createKey, newWorkspace, uniqueEmail } from './support/factories.js';
import { newForm, submit } from './support/forms.js';
import { emailOpened, recordEvents } from './support/funnels.js';
import { createTestApp, type TestApp } from './support/test-app.js';

// An API-only app runs no job worker: what is queued for the rule engine stays queued for the test to
// read. (Its own file: passport keeps one strategy per name for the whole process, so a second app in
// a file would take over the first one's API-key checks.)
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ ROLE: 'api' });
});
afterAll(() => t.close());

describe('the rule engine queue', () => {
  it('queues every event with its contact, whichever way it was recorded: the lanes split the queue by it', async () => {
    const ws = await newWorkspace(t);
    const form = await newForm(t, ws);
    const secret = await createKey(t, ws, 'secret');
    const email = uniqueEmail('queued');
    await submit(t, form.id, { fields: { email }, consent: { newsletter: true } }).expect(201);
    const [{ id: contactId }] = await t.sql<{ id: string }>(`SELECT id FROM contacts WHERE email = $1`, [email]);
    await t.http().post('/v1/public/events').set(...bearer(secret.key)).send({ events: [{ type: 'payment.succeeded', contactId, properties: { amount: 5 } }] }).expect(202);
    await recordEvents(t, ws.workspaceId, [emailOpened(contactId)]);

    const queued = await t.sql<{ type: string; same: boolean }>(
      `SELECT e.type, q.contact_id = e.contact_id AS same FROM domain_event_queue q JOIN domain_events e ON e.id = q.event_id
        WHERE q.workspace_id = $1 ORDER BY q.event_id`,
      [ws.workspaceId],
    );
    // The submission queues its form's tags too.
    expect(queued.map((q) => q.type)).toEqual(['form.submitted', 'tag.added', 'payment.succeeded', 'email.opened']);
    expect(queued.filter((q) => !q.same)).toEqual([]);
  });
});
