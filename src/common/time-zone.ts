import { ValidateBy } from 'class-validator';

// Zone names found valid: the runtime's list is fixed for the life of the process, and building an
// Intl.DateTimeFormat to check a name costs more than the rest of a report request's validation.
// Only valid names are kept, so the set is bounded by the runtime's zones (a few hundred).
const known = new Set<string>();

/**
 * An IANA zone name the runtime knows (Europe/Berlin, UTC). Offsets like +01:00 are refused:
 * PostgreSQL reads them inverted.
 */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (known.has(value)) return true;
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    return false;
  }
  known.add(value);
  return true;
}

/** Validates a DTO field with isTimeZone. */
export const IsIanaTimeZone = () =>
  ValidateBy({ name: 'isTimeZone', validator: { validate: isTimeZone, defaultMessage: () => 'tz must be an IANA time zone such as Europe/Berlin' } });
