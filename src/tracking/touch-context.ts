import type { FieldError } from '../common/problem.js';
import type { TouchContext } from './attribution.js';

/** Where a visitor came from, as the embed and hosted page send it, plus the embed's anonymous id. */
export type SentContext = TouchContext & { anonymousId?: string };

export const ANONYMOUS_ID = /^[\w-]{8,64}$/;

// Context fields and their longest accepted value (SubmissionContextDto documents them).
const CONTEXT_LIMITS: Record<string, number> = {
  url: 2000,
  referrer: 2000,
  utm_source: 200,
  utm_medium: 200,
  utm_campaign: 200,
  utm_term: 200,
  utm_content: 200,
  fbclid: 500,
  gclid: 500,
  ttclid: 500,
  anonymousId: 64,
};

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a context object by hand (submissions and event batches are the hot public paths): known
 * fields only, text within its limit, a well-formed anonymous id. Pushes one error per bad field.
 */
export function checkContext(value: unknown, at: string, errors: FieldError[]): value is SentContext {
  if (!isObject(value)) {
    errors.push({ field: at, message: 'context must be an object' });
    return false;
  }
  const before = errors.length;
  for (const [key, v] of Object.entries(value)) {
    const max = CONTEXT_LIMITS[key];
    if (max === undefined) errors.push({ field: `${at}.${key}`, message: 'unknown field' });
    else if (typeof v !== 'string' || v.length > max) errors.push({ field: `${at}.${key}`, message: `must be text of at most ${max} characters` });
    else if (key === 'anonymousId' && !ANONYMOUS_ID.test(v)) errors.push({ field: `${at}.anonymousId`, message: 'anonymousId must be 8-64 letters, digits, _ or -' });
  }
  return errors.length === before;
}
