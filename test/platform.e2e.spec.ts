import { listRouteDeclarations } from '../src/common/route-audit.js';
import { expectProblem, newWorkspace } from './support/factories.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('health and metrics', () => {
  it('serves liveness and readiness (database and job queue)', async () => {
    await t.http().get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.details).toMatchObject({ database: { status: 'up' }, jobs: { status: 'up' } });
  });

  it('exposes Prometheus metrics with latency histograms per route', async () => {
    await newWorkspace(t);
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/v1\/auth\/signup"[^}]*status="201"/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });
});

describe('HTTP behaviour', () => {
  it('answers unknown routes with problem+json 404', async () => {
    const res = await t.http().get('/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectProblem(res.body, 404, 'not_found');
  });

  it('sends security headers and a request id, honouring a sane incoming one', async () => {
    const res = await t.http().get('/health/live').set('x-request-id', 'abc-123').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-request-id']).toBe('abc-123');
    const generated = await t.http().get('/health/live').set('x-request-id', 'bad id with spaces').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('OpenAPI', () => {
  it('documents every route with its schemas and auth', async () => {
    const res = await t.http().get('/docs/openapi.json').expect(200);
    const doc = res.body as { paths: Record<string, Record<string, { security?: unknown[] }>>; components: { securitySchemes: object; schemas: object } };
    expect(Object.keys(doc.components.securitySchemes)).toEqual(expect.arrayContaining(['jwt', 'secretKey']));
    expect(doc.components.schemas).toHaveProperty('SignupDto');
    expect(doc.components.schemas).toHaveProperty('CreatedApiKeyResponse');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.length).toBe(listRouteDeclarations(t.app).length);
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/workspaces/{workspaceId}')) continue;
      for (const [method, op] of Object.entries(ops)) expect({ route: `${method} ${path}`, secured: (op.security ?? []).length > 0 }).toEqual({ route: `${method} ${path}`, secured: true });
    }
    await t.http().get('/docs').expect(200).expect('content-type', /html/);
  });
});
