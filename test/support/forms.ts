import type { Session } from './factories.js';
import { bearer } from './factories.js';
import type { TestApp } from './test-app.js';

export const FORM_BODY = {
  name: 'Spring giveaway',
  title: 'Win a cake',
  description: 'Join the list, win a cake.',
  fields: [
    { key: 'email', type: 'email', label: 'Email', required: true },
    { key: 'first_name', type: 'first_name', label: 'First name' },
    { key: 'phone', type: 'phone', label: 'Phone' },
    { key: 'size', type: 'select', label: 'Cake size', options: ['S', 'M', 'L'] },
    { key: 'age', type: 'number', label: 'Age', min: 16, max: 120 },
    { key: 'code', type: 'text', label: 'Promo code', pattern: '[A-Z]{3}-\\d{2}', maxLength: 6 },
  ],
  consents: [
    { key: 'newsletter', channel: 'email', text: 'Send me the weekly newsletter. Unsubscribe any time.', required: true },
    { key: 'texts', channel: 'sms', text: 'Text me about flash sales.' },
  ],
  tags: ['giveaway'],
  defaultCountry: 'US',
  minFillSeconds: 0,
};

export async function newForm(t: TestApp, owner: Session, overrides: Record<string, unknown> = {}): Promise<{ id: string; slug: string; version: number }> {
  const res = await t
    .http()
    .post(`/v1/workspaces/${owner.workspaceId}/forms`)
    .set(...bearer(owner.accessToken))
    .send({ ...FORM_BODY, ...overrides })
    .expect(201);
  return res.body;
}

export const submit = (t: TestApp, formId: string, body: Record<string, unknown>) =>
  t.http().post(`/v1/public/forms/${formId}/submissions`).send(body);
