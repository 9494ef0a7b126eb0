import 'reflect-metadata';
import { readRuntimeConfig } from '../config/runtime-config.js';
import { migrate } from './data-source.js';
import { startDatabase } from './database.runtime.js';

// `npm run migrate` / `npm run migrate:revert`: against DATABASE_URL, or the embedded database.
const direction = process.argv[2] === 'down' ? 'down' : 'up';
const config = readRuntimeConfig();
const db = await startDatabase(config, (m) => console.log(m));
try {
  const names = await migrate(db.url, direction);
  console.log(direction === 'up' ? `applied: ${names.join(', ') || 'nothing pending'}` : `reverted: ${names.join(', ') || 'nothing'}`);
} finally {
  await db.stop();
}
