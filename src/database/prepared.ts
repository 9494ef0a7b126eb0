import type { DataSource, EntityManager } from 'typeorm';

/**
 * A statement PostgreSQL parses and plans once per connection instead of on every call. For the
 * hot paths only (public submissions, rate limits, event batches): TypeORM's `query()` cannot name
 * a statement, so these go to the `pg` connection underneath it.
 *
 * A name stands for exactly one text for the life of a connection (`pg` refuses a second text under
 * the same name), so names are declared once, next to their SQL, through `prepared()`.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

const declared = new Map<string, string>();

export function prepared(name: string, text: string): PreparedStatement {
  const earlier = declared.get(name);
  if (earlier !== undefined && earlier !== text) throw new Error(`prepared statement "${name}" is declared twice with different SQL`);
  declared.set(name, text);
  return Object.freeze({ name, text });
}

interface PgQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `statement` with `values`: on the pool (its own implicit transaction) when given the
 * DataSource, or on the transaction's connection when given its EntityManager.
 */
export async function runPrepared<T>(target: DataSource | EntityManager, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  const result = await (await connectionOf(target)).query({ name: statement.name, text: statement.text, values });
  return result.rows as T[];
}

async function connectionOf(target: DataSource | EntityManager): Promise<PgQueryable> {
  if ('driver' in target) {
    // PostgresDriver.master: the pg.Pool TypeORM opened (DataSource is initialized by the time we run).
    const pool = (target.driver as unknown as { master?: PgQueryable }).master;
    if (!pool) throw new Error('runPrepared: the DataSource has no PostgreSQL pool (not initialized?)');
    return pool;
  }
  const runner = target.queryRunner;
  if (!runner?.isTransactionActive) throw new Error('runPrepared: the EntityManager given is not in a transaction');
  // PostgresQueryRunner.connect() resolves to the pg client the transaction runs on.
  return (await runner.connect()) as PgQueryable;
}
