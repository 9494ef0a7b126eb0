import pg from 'pg';

/**
 * What each side sends to PostgreSQL for one request, read from the server's own statement log
 * (`log_statement = 'all'`, switched on only around the equivalence check). This is what proves the
 * baseline does the app's SQL: same statements, same protocol, same transaction blocks, same count.
 * Needs a server whose stderr the bench reads and may reconfigure: the embedded one.
 */

export interface LoggedStatement {
  pid: number;
  application: string;
  // 'statement' (simple protocol) or 'execute <unnamed>' (extended protocol: one parse/bind/execute).
  protocol: string;
  text: string;
}

// Set only while capturing; `|` does not occur in our application names.
const PREFIX = 'lnbench|';
const RECORD = /^lnbench\|(\d+)\|([^|]*)\|([A-Z]+):  ([\s\S]*)$/;
const STATEMENT = /^(statement|execute [^:]*): ([\s\S]*)$/;
// The postmaster forwards a reload to every backend asynchronously.
const RELOAD_SETTLE_MS = 500;
// Log lines reach us through a pipe after the answer did.
const LOG_SETTLE_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StatementLog {
  private readonly chunks: string[] = [];
  private capturing = false;

  constructor(private readonly serverUrl: string) {}

  /** Every chunk PostgreSQL writes to stderr; kept only while capturing. */
  feed(chunk: string): void {
    if (this.capturing) this.chunks.push(chunk);
  }

  async start(): Promise<void> {
    await this.configure([`ALTER SYSTEM SET log_line_prefix = '${PREFIX}%p|%a|'`, `ALTER SYSTEM SET log_statement = 'all'`]);
    this.capturing = true;
  }

  /** Must run before any load: logging every statement would slow both sides down. */
  async stop(): Promise<void> {
    this.capturing = false;
    this.chunks.length = 0;
    await this.configure(['ALTER SYSTEM RESET log_statement', 'ALTER SYSTEM RESET log_line_prefix']);
  }

  /** The statements `application` sent while `action` ran (plus the time the log needs to arrive). */
  async during<T>(application: string, action: () => Promise<T>): Promise<{ result: T; statements: LoggedStatement[] }> {
    const mark = this.chunks.length;
    const result = await action();
    await sleep(LOG_SETTLE_MS);
    const statements = parse(this.chunks.slice(mark).join('\n')).filter((s) => s.application === application);
    return { result, statements };
  }

  private async configure(statements: string[]): Promise<void> {
    const client = new pg.Client({ connectionString: this.serverUrl, application_name: 'leadnest-bench' });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end();
    }
    await sleep(RELOAD_SETTLE_MS);
  }
}

/** Log records → statements. A record's continuation lines start with a tab (PostgreSQL adds it). */
export function parse(text: string): LoggedStatement[] {
  const records: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(PREFIX)) records.push(line);
    else if (records.length > 0) records[records.length - 1] += `\n${line.startsWith('\t') ? line.slice(1) : line}`;
  }
  const out: LoggedStatement[] = [];
  for (const record of records) {
    const m = RECORD.exec(record);
    if (!m || m[3] !== 'LOG') continue;
    const s = STATEMENT.exec(m[4]);
    if (s) out.push({ pid: Number(m[1]), application: m[2], protocol: s[1], text: s[2].trimEnd() });
  }
  return out;
}

/**
 * Statements grouped into units: a transaction block (START TRANSACTION … COMMIT/ROLLBACK on one
 * connection, in order) or a single autocommit statement. Sorted, because statements a handler runs
 * in parallel (Promise.all) reach the log in any order.
 */
export function units(statements: LoggedStatement[]): string[] {
  const open = new Map<number, string[]>();
  const out: string[] = [];
  for (const s of statements) {
    const line = `${s.protocol}: ${s.text}`;
    const block = open.get(s.pid);
    if (block) {
      block.push(line);
      if (/^(COMMIT|ROLLBACK)$/i.test(s.text)) {
        out.push(block.join('\n  ; '));
        open.delete(s.pid);
      }
    } else if (/^(START TRANSACTION|BEGIN)\b/i.test(s.text)) {
      open.set(s.pid, [line]);
    } else {
      out.push(line);
    }
  }
  for (const block of open.values()) out.push(`${block.join('\n  ; ')}\n  ; (no COMMIT seen)`);
  return out.sort();
}

/** The first difference between two unit lists, for the error message; null when equal. */
export function firstDifference(app: string[], raw: string[]): string | null {
  const rawLeft = [...raw];
  const onlyApp: string[] = [];
  for (const u of app) {
    const i = rawLeft.indexOf(u);
    if (i >= 0) rawLeft.splice(i, 1);
    else onlyApp.push(u);
  }
  if (onlyApp.length === 0 && rawLeft.length === 0) return null;
  const show = (list: string[]) => (list.length === 0 ? '(nothing)' : list.map((u) => `  ${u}`).join('\n'));
  return `only the app sent:\n${show(onlyApp)}\nonly the baseline sent:\n${show(rawLeft)}`;
}
