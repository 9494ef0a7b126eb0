import { createHash } from 'node:crypto';

/**
 * The suppression key of a person: sha256 hex of a normalised email (trimmed, lowercase) or E.164 phone.
 * Erase writes it and import checks it, so both must go through this one function.
 */
export function identityHash(normalised: string): string {
  return createHash('sha256').update(normalised, 'utf8').digest('hex');
}
