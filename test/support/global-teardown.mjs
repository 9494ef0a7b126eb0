import pg from 'pg';

export default async function globalTeardown() {
  const adminUrl = process.env.LEADNEST_TEST_ADMIN_URL;
  const template = process.env.LEADNEST_TEST_TEMPLATE;
  if (adminUrl && template) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(template)} WITH (FORCE)`).catch(() => undefined);
    await client.end();
  }
  await globalThis.__leadnestEmbedded?.stop();
}
