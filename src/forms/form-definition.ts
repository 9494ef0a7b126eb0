import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { FieldError } from '../common/problem.js';

export const FIELD_TYPES = ['email', 'phone', 'first_name', 'last_name', 'text', 'number', 'select', 'checkbox', 'date'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

// Built-in fields map onto contact columns; their key is their type.
export const BUILT_IN_TYPES: readonly FieldType[] = ['email', 'phone', 'first_name', 'last_name'];

export interface FormField {
  key: string;
  type: FieldType;
  label: string;
  required: boolean;
  placeholder?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  min?: number;
  max?: number;
  options?: string[];
}

export interface ConsentItem {
  key: string;
  channel: 'email' | 'sms';
  text: string;
  required: boolean;
}

export interface FormDefinition {
  title: string;
  description?: string;
  fields: FormField[];
  consents: ConsentItem[];
  doubleOptIn: boolean;
  allowedOrigins: string[];
  successMessage: string;
  redirectUrl?: string;
  tags: string[];
  defaultCountry?: string;
  submitLabel: string;
  // Spam: submissions faster than this after the form was shown are refused.
  minFillSeconds: number;
}

// The honeypot input every rendered form carries, hidden from people; bots fill it.
export const HONEYPOT_FIELD = 'website';
export const MAX_TEXT_LENGTH = 2000;

export interface NormalisedSubmission {
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  // Custom fields, typed.
  attributes: Record<string, string | number | boolean>;
  // Every accepted value as stored on the submission.
  values: Record<string, string | number | boolean>;
  consents: ConsentItem[];
}

export type SubmissionCheck = { ok: true; value: NormalisedSubmission } | { ok: false; errors: FieldError[] };

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function normaliseEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : null;
}

export function normalisePhone(raw: string, defaultCountry?: string): string | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), (defaultCountry as CountryCode | undefined) ?? undefined);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * Checks submitted values against a form's fields and consent items. Unknown keys, missing required
 * values, wrong types and broken length/pattern rules are each named; nothing is coerced silently.
 */
export function checkSubmission(
  def: FormDefinition,
  fields: Record<string, unknown>,
  consent: Record<string, unknown>,
): SubmissionCheck {
  const errors: FieldError[] = [];
  const known = new Set(def.fields.map((f) => f.key));
  for (const key of Object.keys(fields)) {
    if (!known.has(key)) errors.push({ field: `fields.${key}`, message: 'unknown field' });
  }
  const out: NormalisedSubmission = { email: null, phone: null, firstName: null, lastName: null, attributes: {}, values: {}, consents: [] };
  for (const field of def.fields) {
    const raw = fields[field.key];
    const path = `fields.${field.key}`;
    const empty = raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '') || (field.type === 'checkbox' && raw === false);
    if (empty) {
      if (field.required) errors.push({ field: path, message: `${field.label} is required` });
      continue;
    }
    const result = checkValue(field, raw, def.defaultCountry);
    if ('error' in result) {
      errors.push({ field: path, message: result.error });
      continue;
    }
    const value = result.value;
    out.values[field.key] = value;
    if (typeof value === 'string' && field.type === 'email') out.email = value;
    else if (typeof value === 'string' && field.type === 'phone') out.phone = value;
    else if (typeof value === 'string' && field.type === 'first_name') out.firstName = value;
    else if (typeof value === 'string' && field.type === 'last_name') out.lastName = value;
    else out.attributes[field.key] = value;
  }
  const consentKeys = new Set(def.consents.map((c) => c.key));
  for (const key of Object.keys(consent)) {
    if (!consentKeys.has(key)) errors.push({ field: `consent.${key}`, message: 'unknown consent item' });
  }
  for (const item of def.consents) {
    const given = consent[item.key];
    if (given !== undefined && typeof given !== 'boolean') {
      errors.push({ field: `consent.${item.key}`, message: 'must be true or false' });
    } else if (given === true) {
      out.consents.push(item);
    } else if (item.required) {
      errors.push({ field: `consent.${item.key}`, message: 'this consent is required' });
    }
  }
  for (const item of out.consents) {
    const address = item.channel === 'email' ? out.email : out.phone;
    if (!address) errors.push({ field: `consent.${item.key}`, message: `${item.channel} consent needs a ${item.channel === 'email' ? 'email address' : 'phone number'}` });
  }
  if (errors.length === 0 && !out.email && !out.phone) {
    const target = def.fields.find((f) => f.type === 'email') ?? def.fields.find((f) => f.type === 'phone');
    errors.push({ field: target ? `fields.${target.key}` : 'fields', message: 'an email address or a phone number is required' });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}

type Checked = { value: string | number | boolean } | { error: string };
const fail = (error: string): Checked => ({ error });

function checkValue(field: FormField, raw: unknown, defaultCountry?: string): Checked {
  switch (field.type) {
    case 'checkbox':
      return raw === true ? { value: true } : fail('must be true or false');
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return fail('must be a number');
      if (field.min !== undefined && n < field.min) return fail(`must be at least ${field.min}`);
      if (field.max !== undefined && n > field.max) return fail(`must be at most ${field.max}`);
      return { value: n };
    }
    default:
      break;
  }
  if (typeof raw !== 'string') return fail('must be text');
  const value = raw.trim();
  if (value.length > Math.min(field.maxLength ?? MAX_TEXT_LENGTH, MAX_TEXT_LENGTH)) return fail(`must be at most ${field.maxLength ?? MAX_TEXT_LENGTH} characters`);
  if (field.minLength !== undefined && value.length < field.minLength) return fail(`must be at least ${field.minLength} characters`);
  switch (field.type) {
    case 'email': {
      const email = normaliseEmail(value);
      return email ? { value: email } : fail('must be a valid email address');
    }
    case 'phone': {
      const phone = normalisePhone(value, defaultCountry);
      return phone ? { value: phone } : fail('must be a valid phone number');
    }
    case 'select':
      return field.options?.includes(value) ? { value } : fail(`must be one of: ${(field.options ?? []).join(', ')}`);
    case 'date':
      return DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? { value } : fail('must be a date (YYYY-MM-DD)');
    default:
      if (field.pattern && !new RegExp(`^(?:${field.pattern})$`, 'u').test(value)) return fail('has an invalid format');
      return { value };
  }
}
