// Plain ESM: jest loads global setup natively, outside the TypeScript transform, so this file
// imports only real .js modules. It starts one PostgreSQL for the run (unless TEST_DATABASE_URL
// names a server) and picks the template database name; the first test file to need it migrates it.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export default async function globalSetup() {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const dir = join(mkdtempSync(join(tmpdir(), 'leadnest-test-')), 'pg');
    const server = await startEmbeddedPostgres({ dir, port: await freePort(), persistent: false });
    globalThis.__leadnestEmbedded = server;
    adminUrl = server.url;
  }
  process.env.LEADNEST_TEST_ADMIN_URL = adminUrl;
  process.env.LEADNEST_TEST_TEMPLATE = `leadnest_tpl_${process.pid}_${Date.now()}`;
}
