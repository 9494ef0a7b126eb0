import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import ts from 'typescript';
import { classicScript, EMBED_SCRIPT_URL } from '../src/forms/embed.controller.js';
import type { PublicFormResponse } from '../src/forms/forms.dto.js';
import { renderHostedPage } from '../src/forms/hosted-page.js';
import { escapeText } from '../src/forms/html.js';
import { browserTestsEnabled, freePort, launchChromium, startApiProxy, startSite, until, type ApiProxy, type Site } from './support/browser.js';
import { bearer, createKey, newWorkspace, uniqueEmail, type Session } from './support/factories.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const EMBED_SOURCE = readFileSync(EMBED_SCRIPT_URL, 'utf8');
const HOSTILE = `<script>alert("x")</script> & 'quotes' "double"`;

describe('embed.js and the hosted page (no browser)', () => {
  it('embed.js stays under 15 KB gzipped', () => {
    expect(gzipSync(EMBED_SOURCE, { level: 9 }).length).toBeLessThan(15 * 1024);
  });

  it('is plain ES2018: compiling it down to ES2018 changes nothing', () => {
    const as = (target: ts.ScriptTarget) => ts.transpileModule(EMBED_SOURCE, { fileName: 'leadnest-embed.js', compilerOptions: { target, allowJs: true } }).outputText;
    expect(as(ts.ScriptTarget.ES2018)).toBe(as(ts.ScriptTarget.ESNext));
  });

  it('runs as a classic <script> after `npm run build` re-emits it as a module', () => {
    // What tsc does to it under NodeNext (moduleDetection "force"): it appends `export {};`.
    const built = ts.transpileModule(EMBED_SOURCE, {
      fileName: 'leadnest-embed.js',
      compilerOptions: { module: ts.ModuleKind.ESNext, moduleDetection: ts.ModuleDetectionKind.Force, target: ts.ScriptTarget.ES2022, allowJs: true, sourceMap: true },
    }).outputText;
    expect(() => new Script(built)).toThrow();
    expect(() => new Script(classicScript(built))).not.toThrow();
    expect(classicScript(built)).not.toMatch(/sourceMappingURL/);
  });

  it('escapeText escapes what could open a tag or leave an attribute', () => {
    expect(escapeText(`<a href="x" title='y'>Tom & Jerry</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;');
    expect(escapeText('&amp;')).toBe('&amp;amp;');
    expect(escapeText('plain text, émoji 🎉')).toBe('plain text, émoji 🎉');
  });

  it('renders every workspace value escaped, in text and in attributes', () => {
    const form: PublicFormResponse = {
      id: '00000000-0000-4000-8000-000000000001',
      slug: 'promo',
      version: 1,
      title: HOSTILE,
      description: `${HOSTILE}\nsecond line`,
      fields: [{ key: 'email', type: 'email', label: HOSTILE, required: true }],
      consents: [{ key: 'news', channel: 'email', text: `</div><img src=x onerror=alert(1)>`, required: false }],
      doubleOptIn: false,
      submitLabel: '"><script>alert(2)</script>',
      successMessage: HOSTILE,
      redirectUrl: null,
      honeypotField: 'website',
      minFillSeconds: 2,
      submitUrl: 'http://localhost:3000/v1/public/forms/x/submissions',
    };
    const html = renderHostedPage(form, 'http://localhost:3000/');
    expect(html).not.toMatch(/<script>|<img|onerror=alert\(1\)>/);
    expect((html.match(/<script/g) ?? []).length).toBe(1);
    expect(html).toContain(`<h1>${escapeText(HOSTILE)}</h1>`);
    expect(html).toContain(`<meta property="og:title" content="${escapeText(HOSTILE)}">`);
    expect(html).toContain('<link rel="canonical" href="http://localhost:3000/f/promo">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    // Without JavaScript the page still says what to do.
    expect(html).toContain('<noscript><p>This form needs JavaScript.');
  });
});

const BROWSER = browserTestsEnabled();
const itBrowser = BROWSER ? it : it.skip;

const CONSENT_TEXT = 'Email me news and offers. I can unsubscribe at any time.';

describe('embed.js and the hosted page against the real API', () => {
  let t: TestApp;
  let api: string;
  let browser: Browser | null = null;
  let site: Site;
  let proxy: ApiProxy;
  let owner: Session;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    // PUBLIC_URL as the browser sees the API: the hosted page submits from that origin.
    t = await createTestApp({ PUBLIC_URL: api });
    await t.app.listen({ port, host: '127.0.0.1' });
    // One by one, so afterAll closes whatever started even when a later step fails.
    site = await startSite();
    proxy = await startApiProxy(port);
    owner = await newWorkspace(t);
    if (BROWSER) browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await site?.close();
    await t?.close();
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });

  // A fresh profile per test: its own localStorage (queue, anonymous id, first touch).
  async function openPage(): Promise<Page> {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext();
    // Fail on the step that hangs, well before jest's own timeout.
    context.setDefaultTimeout(8_000);
    contexts.push(context);
    return context.newPage();
  }

  interface CreatedForm {
    id: string;
    slug: string;
    successMessage: string;
  }

  async function createForm(body: Record<string, unknown> = {}): Promise<CreatedForm> {
    const res = await t
      .http()
      .post(`/v1/workspaces/${owner.workspaceId}/forms`)
      .set(...bearer(owner.accessToken))
      .send({
        name: 'Spring giveaway',
        title: 'Win a spring box',
        fields: [
          { key: 'email', type: 'email', label: 'Email', required: true },
          { key: 'first_name', type: 'first_name', label: 'First name' },
          { key: 'phone', type: 'phone', label: 'Phone' },
        ],
        consents: [{ key: 'news', channel: 'email', text: CONSENT_TEXT }],
        allowedOrigins: [site.origin],
        successMessage: 'Thanks, you are in the draw!',
        minFillSeconds: 0,
        ...body,
      })
      .expect(201);
    return { id: res.body.id, slug: res.body.slug, successMessage: res.body.successMessage };
  }

  async function sitePage(form: CreatedForm, apiOrigin: string, attrs = ''): Promise<string> {
    const path = `/landing-${form.id}`;
    site.pages.set(
      path,
      `<!doctype html><html><head><meta charset="utf-8"><title>Corner Bakery</title></head><body>` +
        `<h1>Corner Bakery</h1><p>Fresh bread every morning.</p>` +
        `<script src="${apiOrigin}/embed.js" data-form="${form.id}" ${attrs} async></script><p id="after">Opening hours</p></body></html>`,
    );
    return `${site.origin}${path}`;
  }

  const rows = (formId: string) =>
    t.sql<{ values: Record<string, unknown>; context: Record<string, string>; idempotency_key: string | null; email: string | null }>(
      `SELECT s."values", s.context, s.idempotency_key, c.email FROM submissions s LEFT JOIN contacts c ON c.id = s.contact_id WHERE s.form_id = $1`,
      [formId],
    );

  const queued = (page: Page) => page.evaluate<Array<{ key: string; tries: number }>>(`JSON.parse(localStorage.getItem('leadnest:queue') || '[]')`);

  function watchConsole(page: Page): string[] {
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    return problems;
  }

  it('serves /embed.js cacheable, compressed and loadable by other sites', async () => {
    const res = await t.http().get('/embed.js').set('accept-encoding', 'identity').expect(200);
    expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.text).toBe(classicScript(EMBED_SOURCE));
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^W\/"[\w-]{27}"$/);
    await t.http().get('/embed.js').set('if-none-match', etag).expect(304);
    const gz = await t.http().get('/embed.js').set('accept-encoding', 'gzip, deflate, br').expect(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toMatch(/accept-encoding/i);
    expect(gz.text).toBe(res.text);
  });

  it('answers an unknown or archived form with a small HTML 404 page', async () => {
    const form = await createForm();
    await t.http().get(`/f/${form.slug}`).expect(200);
    await t.http().patch(`/v1/workspaces/${owner.workspaceId}/forms/${form.id}`).set(...bearer(owner.accessToken)).send({ status: 'archived' }).expect(200);
    for (const path of [`/f/${form.slug}`, `/f/${form.id}`, '/f/no-such-form', `/f/${'x'.repeat(90)}`, '/f/%3Cscript%3E']) {
      const res = await t.http().get(path).expect(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<h1>Form not found</h1>');
      expect(res.text).not.toContain('<script');
    }
  });

  itBrowser('renders on another origin, is usable by keyboard alone, submits and stores the lead with its attribution', async () => {
    const form = await createForm();
    const { key: publishable } = await createKey(t, owner, 'publishable');
    const url = await sitePage(form, api, `data-key="${publishable}"`);
    const page = await openPage();
    const problems = watchConsole(page);
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).origin));
    const events: Array<{ status: number; body: unknown }> = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/v1/public/events')) events.push({ status: r.status(), body: r.request().postDataJSON() });
    });

    await page.goto(`${url}?utm_source=instagram&utm_medium=social&utm_campaign=spring&fbclid=IwAR0abc`);
    const email = page.getByRole('textbox', { name: 'Email', exact: true });
    await email.waitFor();
    // Right after the script tag, before the rest of the page.
    expect(await page.evaluate(`document.querySelector('script[data-form]').nextElementSibling.getAttribute('data-leadnest-form')`)).toBe(form.id);
    expect(await page.getByRole('heading', { name: 'Win a spring box' }).count()).toBe(1);
    const honeypot = page.locator('input[name="website"]');
    expect(await honeypot.getAttribute('tabindex')).toBe('-1');
    expect(await honeypot.getAttribute('autocomplete')).toBe('off');
    // Off-screen rather than display:none, which some bots skip.
    const box = await honeypot.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThan(0);

    // Keyboard only: Tab through fields in order; the honeypot is skipped on the way to the button.
    const address = uniqueEmail('visitor');
    await email.focus();
    await page.keyboard.type(`  ${address.toUpperCase()} `);
    await page.keyboard.press('Tab');
    await page.keyboard.type('Ada');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(`document.activeElement.className`)).toBe('ln-submit');
    await page.keyboard.press('Enter');

    await page.getByRole('status').filter({ hasText: form.successMessage }).waitFor();
    const stored = await until('the stored submission', async () => (await rows(form.id))[0]);
    expect(stored.email).toBe(address.toLowerCase());
    expect(stored.values).toMatchObject({ email: address.toLowerCase(), first_name: 'Ada' });
    expect(stored.context).toMatchObject({ utm_source: 'instagram', utm_medium: 'social', utm_campaign: 'spring', fbclid: 'IwAR0abc' });
    expect(stored.context.url).toContain(url);
    expect(stored.context.anonymousId).toMatch(/^[\w-]{8,64}$/);
    expect(stored.idempotency_key).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.evaluate(`JSON.parse(localStorage.getItem('leadnest:aid'))`)).toBe(stored.context.anonymousId);

    // page_view and form_view went to the events endpoint with the publishable key.
    await until('the events', () => events.length >= 2);
    expect(events.map((e) => e.status)).toEqual([202, 202]);
    const tracked = await t.sql<{ type: string }>(`SELECT type FROM events WHERE anonymous_id = $1 ORDER BY type`, [stored.context.anonymousId]);
    expect(tracked.map((e) => e.type)).toEqual(['form_view', 'page_view']);
    // No request left the site and the API.
    expect([...hosts].sort()).toEqual([api, site.origin].sort());
    expect(problems).toEqual([]);
  });

  itBrowser('shows validation errors next to the fields: the client\'s own, then one only the server catches', async () => {
    const form = await createForm();
    const page = await openPage();
    let posts = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/submissions')) posts++;
    });
    await page.goto(await sitePage(form, api));
    const email = page.getByRole('textbox', { name: 'Email', exact: true });
    await email.fill('not-an-email');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const emailError = page.locator(`#${(await email.getAttribute('aria-describedby')) ?? 'missing'}`);
    await until('the client-side email error', async () => (await emailError.textContent()) === 'must be a valid email address');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(posts).toBe(0);

    // A phone number that looks fine to the browser; libphonenumber on the server knows 555 is no area code.
    await email.fill(uniqueEmail('visitor'));
    const phone = page.getByRole('textbox', { name: 'Phone', exact: true });
    await phone.fill('+1 555 123 4567');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const phoneError = page.locator(`#${(await phone.getAttribute('aria-describedby')) ?? 'missing'}`);
    await until('the server-side phone error', async () => (await phoneError.textContent()) === 'must be a valid phone number');
    expect(posts).toBe(1);
    expect(await phone.getAttribute('aria-invalid')).toBe('true');
    expect(await email.getAttribute('aria-invalid')).toBeNull();
    expect(await page.evaluate(`document.activeElement.name`)).toBe('phone');
    expect(await page.getByRole('alert').first().textContent()).toBe('Please check the highlighted fields.');
    expect(await rows(form.id)).toHaveLength(0);
  });

  itBrowser('serves the hosted page: escaped, previewable, works under the CSP, submits', async () => {
    const form = await createForm({ title: HOSTILE, description: 'Fresh bread, every morning.\nSign up for the Friday offers.', allowedOrigins: [] });
    const page = await openPage();
    const problems = watchConsole(page);
    let dialog = false;
    page.on('dialog', (d) => {
      dialog = true;
      void d.dismiss();
    });
    const res = await page.goto(`${api}/f/${form.slug}`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.title()).toBe(HOSTILE);
    expect(await page.locator('h1').textContent()).toBe(HOSTILE);
    expect(await page.locator('meta[property="og:description"]').getAttribute('content')).toBe('Fresh bread, every morning.\nSign up for the Friday offers.');
    expect(await page.locator('meta[property="og:url"]').getAttribute('content')).toBe(`${api}/f/${form.slug}`);

    await page.getByRole('textbox', { name: 'Email', exact: true }).fill(uniqueEmail('bio'));
    await page.getByRole('checkbox', { name: CONSENT_TEXT }).check();
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('status').filter({ hasText: form.successMessage }).waitFor();
    expect(await rows(form.id)).toHaveLength(1);
    expect(dialog).toBe(false);
    expect(problems).toEqual([]);
  });

  itBrowser('lets the hosted page submit when the form only allows other sites', async () => {
    // The hosted page is the API's own page for that form: allowedOrigins is about third-party sites.
    const form = await createForm({ allowedOrigins: [site.origin] });
    const page = await openPage();
    await page.goto(`${api}/f/${form.slug}`);
    await page.getByRole('textbox', { name: 'Email', exact: true }).fill(uniqueEmail('bio'));
    await page.getByRole('button', { name: 'Sign up' }).click();
    const outcome = page.getByRole('status').filter({ hasText: form.successMessage }).or(page.locator('.ln-alert:not(:empty)'));
    await outcome.waitFor();
    expect(await outcome.textContent()).toBe(form.successMessage);
    expect(await rows(form.id)).toHaveLength(1);
  });

  itBrowser('queues a submission while the API is down and delivers it exactly once when it is back', async () => {
    const form = await createForm();
    const page = await openPage();
    await page.goto(await sitePage(form, proxy.origin));
    await page.getByRole('textbox', { name: 'Email', exact: true }).fill(uniqueEmail('offline'));
    await page.getByRole('textbox', { name: 'First name', exact: true }).fill('Grace');

    // The API is stopped: connections refused.
    await proxy.setMode('down');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('status').filter({ hasText: 'will be sent automatically when the connection is back' }).waitFor();
    const [item] = await queued(page);
    expect(item.key).toMatch(/^[0-9a-f]{32}$/);

    // Back, but failing: 503 keeps it queued.
    await proxy.setMode('unavailable');
    await page.evaluate(`window.dispatchEvent(new Event('online'))`);
    await until('a retry answered 503', () => proxy.submissions.length >= 1);
    await until('the retry recorded', async () => (await queued(page))[0]?.tries >= 2);

    // The submission lands but the answer is lost on the way back: still queued, one row.
    await proxy.setMode('drop-response');
    const seen = proxy.submissions.length;
    await page.evaluate(`window.dispatchEvent(new Event('online'))`);
    await until('the submission stored', async () => (await rows(form.id)).length === 1);
    await until('the lost answer counted as a failure', async () => (await queued(page))[0]?.tries >= 3);
    expect(proxy.submissions.length).toBeGreaterThan(seen);

    // Next page load with the API healthy: the queue empties, still one row.
    await proxy.setMode('up');
    await page.reload();
    await until('the queue emptied', async () => (await queued(page)).length === 0);
    const stored = await rows(form.id);
    expect(stored).toHaveLength(1);
    expect(stored[0].values).toMatchObject({ first_name: 'Grace' });
    expect(stored[0].idempotency_key).toBe(item.key);
    expect(new Set(proxy.submissions)).toEqual(new Set([item.key]));
  });
});
