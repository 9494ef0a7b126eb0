import { auditRoutes, listRouteDeclarations } from '../src/common/route-audit.js';
import { createTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('every registered route declares who may call it', () => {
  it('walks all routes: none without @Roles/@Authenticated/@Public', () => {
    const routes = listRouteDeclarations(t.app);
    expect(routes.length).toBeGreaterThan(15);
    expect(auditRoutes(t.app)).toEqual([]);
    // Public routes are few and deliberate.
    const publicRoutes = routes.filter((r) => r.rule?.kind === 'public').map((r) => r.route.split(' ')[1]).sort();
    expect(publicRoutes).toEqual([
      '/embed.js',
      '/f/:formIdOrSlug',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/auth/login',
      '/v1/auth/logout',
      '/v1/auth/refresh',
      '/v1/auth/signup',
      '/v1/public/confirm/:token',
      '/v1/public/events',
      '/v1/public/forms/:formId',
      '/v1/public/forms/:formId/submissions',
    ]);
  });
});
