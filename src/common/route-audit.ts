import type { INestApplicationContext } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ACCESS_KEY, type AccessRule } from './access.decorators.js';

export interface RouteDeclaration {
  route: string;
  rule: AccessRule | undefined;
}

/** Every controller method that serves a route, with the access rule it declares (if any). */
export function listRouteDeclarations(app: INestApplicationContext): RouteDeclaration[] {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const out: RouteDeclaration[] = [];
  for (const wrapper of discovery.getControllers()) {
    const type = wrapper.metatype as (new (...args: never[]) => object) | null;
    if (!type) continue;
    const base = String(reflector.get<string | string[]>(PATH_METADATA, type) ?? '');
    for (const method of scanner.getAllMethodNames(type.prototype)) {
      const handler = (type.prototype as Record<string, () => unknown>)[method];
      const path = reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
      if (path === undefined) continue;
      const rule = reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [handler, type]);
      const url = `/${[base, String(path)].filter(Boolean).join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
      out.push({ route: `${type.name}.${method} ${url}`, rule });
    }
  }
  return out;
}

/** Problems that must stop boot: a route with no declaration, or @Roles on a path without :workspaceId. */
export function auditRoutes(app: INestApplicationContext): string[] {
  return listRouteDeclarations(app).flatMap(({ route, rule }) => {
    if (!rule) return [`${route} declares neither @Roles(...) nor @Public()/@Authenticated()`];
    if (rule.kind === 'workspace' && !route.includes(':workspaceId')) return [`${route} uses @Roles but has no :workspaceId`];
    return [];
  });
}
