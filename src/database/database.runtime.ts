import type { AppConfig } from '../config/app-config.js';
import { ensureDatabase } from './database-url.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface DatabaseRuntime {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/** DATABASE_URL when given; otherwise the embedded PostgreSQL with a `leadnest` database in it. */
export async function startDatabase(config: AppConfig, log: (line: string) => void): Promise<DatabaseRuntime> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: false, stop: async () => undefined };
  log(`DATABASE_URL is not set: starting the embedded PostgreSQL in ${config.EMBEDDED_PG_DIR} on port ${config.EMBEDDED_PG_PORT}`);
  const server = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT });
  const url = await ensureDatabase(server.url, 'leadnest');
  return { url, embedded: true, stop: () => server.stop() };
}
