import { createSecretKey, type KeyObject } from 'node:crypto';

/**
 * The HS256 key as a KeyObject, built once. Given a string, jsonwebtoken first tries to parse it as a
 * PEM public key and throws on every call (about 0.4 ms a verification); a KeyObject skips that.
 * The typings of @nestjs/jwt and passport-jwt only name string | Buffer, hence the narrowed type.
 */
export function jwtKey(secret: string): Buffer {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  return key as unknown as Buffer;
}
