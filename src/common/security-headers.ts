/**
 * Security headers, computed once (helmet's defaults, built per request by @fastify/helmet, cost a few
 * percent of a fast request). The JSON API needs no script; /docs (Swagger UI) needs its own scripts and
 * inline styles; the embed script and public endpoints are loaded by other sites.
 */
const CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join(';');

const BASE: Record<string, string> = {
  'content-security-policy': CSP,
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const SAME_ORIGIN = { ...BASE, 'cross-origin-resource-policy': 'same-origin' };
// Other sites load these: the embed script with <script src>, public endpoints with fetch.
const SHARED = { ...BASE, 'cross-origin-resource-policy': 'cross-origin' };

export function securityHeaders(path: string): Record<string, string> {
  return path.startsWith('/embed.js') || path.startsWith('/v1/public/') ? SHARED : SAME_ORIGIN;
}
