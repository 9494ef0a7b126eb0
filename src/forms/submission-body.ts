import { ValidationException, type FieldError } from '../common/problem.js';
import { checkContext, isObject, type SentContext } from '../tracking/touch-context.js';
import { HONEYPOT_FIELD } from './form-definition.js';

/** A public submission's body once its envelope is checked; the fields themselves are the form's to check. */
export interface SubmissionBody {
  fields: Record<string, unknown>;
  consent: Record<string, unknown>;
  context?: SentContext;
  startedAt?: number;
  [HONEYPOT_FIELD]?: string;
}

const KEYS = new Set(['fields', 'consent', 'context', 'startedAt', HONEYPOT_FIELD]);
const MAX_HONEYPOT = 500;

/**
 * The submission envelope checked by hand rather than by class-validator: the same rules as
 * SubmissionDto (which documents them in OpenAPI), at a fraction of the cost on the busiest public
 * route. Every bad field is named; unknown fields are refused.
 */
export function parseSubmissionBody(body: unknown): SubmissionBody {
  if (!isObject(body)) throw new ValidationException([{ field: 'fields', message: 'send a JSON object: { "fields": { ... } }' }]);
  const errors: FieldError[] = [];
  for (const key of Object.keys(body)) if (!KEYS.has(key)) errors.push({ field: key, message: 'unknown field' });
  const { fields, consent, context, startedAt } = body;
  const honeypot = body[HONEYPOT_FIELD];
  if (!isObject(fields)) errors.push({ field: 'fields', message: 'fields must be an object of values by field key' });
  if (consent !== undefined && !isObject(consent)) errors.push({ field: 'consent', message: 'consent must be an object of ticked items by key' });
  if (context !== undefined) checkContext(context, 'context', errors);
  if (startedAt !== undefined && !(Number.isSafeInteger(startedAt) && (startedAt as number) >= 0)) {
    errors.push({ field: 'startedAt', message: 'startedAt must be a time in ms since the epoch' });
  }
  if (honeypot !== undefined && (typeof honeypot !== 'string' || honeypot.length > MAX_HONEYPOT)) {
    errors.push({ field: HONEYPOT_FIELD, message: `must be text of at most ${MAX_HONEYPOT} characters` });
  }
  if (errors.length > 0) throw new ValidationException(errors, 'Some fields need attention.');
  return {
    fields: fields as Record<string, unknown>,
    consent: (consent ?? {}) as Record<string, unknown>,
    context: context as SentContext | undefined,
    startedAt: startedAt as number | undefined,
    [HONEYPOT_FIELD]: honeypot as string | undefined,
  };
}
