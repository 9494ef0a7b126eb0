import { DataSource, type DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    namingStrategy: new SnakeNamingStrategy(),
    migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize,
    extra: { application_name: 'leadnest' },
  };
}

// Any number that is ours alone: serialises migration runs from instances starting together.
const MIGRATION_LOCK = 7_341_001;

/** Runs pending migrations (or reverts the last one) under an advisory lock. Returns the names applied. */
export async function migrate(url: string, direction: 'up' | 'down' = 'up'): Promise<string[]> {
  const ds = new DataSource({ ...dataSourceOptions(url, 2), logging: false });
  await ds.initialize();
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    if (direction === 'down') {
      const executed = await ds.query<{ name: string }[]>(
        `SELECT name FROM typeorm_migrations ORDER BY id DESC LIMIT 1`,
      ).catch(() => []);
      await ds.undoLastMigration({ transaction: 'each' });
      return executed.map((m) => m.name);
    }
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
    await ds.destroy();
  }
}
