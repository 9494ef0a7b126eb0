import pg from 'pg';

/**
 * pg-boss's connections, in a pool of ours so that shutdown can wait for its queries. pg-boss would
 * end its own pool as soon as no job runs; a query then still waiting for a free connection (eight
 * workers poll through a few connections) is never answered, its worker never stops, and pg-boss's
 * stop monitor keeps polling for it after the process was meant to be done.
 */
export class BossDb {
  private readonly pool: pg.Pool;
  private inFlight = 0;

  constructor(options: pg.PoolConfig, onError: (err: Error) => void) {
    this.pool = new pg.Pool(options);
    this.pool.on('error', onError);
  }

  /** pg-boss's whole use of the database. Counted from the request for a connection to the answer. */
  async executeSql(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    this.inFlight++;
    try {
      return await this.pool.query(text, values);
    } finally {
      this.inFlight--;
    }
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  async close(): Promise<void> {
    if (!this.pool.ending) await this.pool.end();
  }
}
