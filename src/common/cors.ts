import type { FastifyCorsOptionsDelegateCallback } from '@fastify/cors';
import type { AppConfig } from '../config/app-config.js';

const EXPOSED = ['x-request-id', 'retry-after', 'idempotent-replayed'];
const FORM_PATH = /^\/v1\/public\/forms\/([^/?]+)/;

/**
 * CORS by route: a form's public endpoints answer the origins that form allows (any, when it lists
 * none); public events and the embed script answer any origin (they carry no user credentials);
 * everything else answers CORS_ORIGINS only.
 */
export function corsDelegate(
  config: AppConfig,
  allowedOrigins: (formIdOrSlug: string) => Promise<string[] | null>,
): FastifyCorsOptionsDelegateCallback {
  const admin = config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS;
  const publicHeaders = ['content-type', 'idempotency-key', 'authorization'];
  return (request, callback) => {
    const origin = request.headers.origin;
    const path = request.url;
    const base = { exposedHeaders: EXPOSED, maxAge: 600, credentials: false };
    const form = FORM_PATH.exec(path)?.[1];
    if (form && origin) {
      allowedOrigins(decodeURIComponent(form)).then(
        (origins) => callback(null, { ...base, allowedHeaders: publicHeaders, origin: origins !== null && (origins.length === 0 || origins.includes(origin)) ? origin : false }),
        () => callback(null, { ...base, origin: false }),
      );
      return;
    }
    if (path.startsWith('/v1/public/') || path.startsWith('/embed.js')) {
      callback(null, { ...base, allowedHeaders: publicHeaders, origin: true });
      return;
    }
    callback(null, { ...base, origin: admin });
  };
}
