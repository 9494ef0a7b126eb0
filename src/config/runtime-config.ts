import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppConfig, loadConfig } from './app-config.js';

const DEV_SECRET_FILE = './.data/jwt-secret';

/**
 * The one place that reads process.env: loads `.env` when present, validates, and in development
 * fills a missing JWT_SECRET with one generated once and kept under .data/ (so restarts keep sessions).
 */
export function readRuntimeConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env, overrides);
  if (!config.JWT_SECRET) config.JWT_SECRET = devSecret();
  return config;
}

function devSecret(): string {
  if (existsSync(DEV_SECRET_FILE)) return readFileSync(DEV_SECRET_FILE, 'utf8').trim();
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dirname(DEV_SECRET_FILE), { recursive: true });
  writeFileSync(DEV_SECRET_FILE, secret, { mode: 0o600 });
  return secret;
}
