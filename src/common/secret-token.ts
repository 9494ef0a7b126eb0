import { createHash, randomBytes } from 'node:crypto';

/** A random bearer secret such as `sk_…`; 32 bytes of entropy, so a fast hash is enough to store it. */
export function generateToken(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
