import type { MigrationInterface, QueryRunner } from 'typeorm';

// Months of events partitions created ahead of the current one (the partition job keeps this up).
const MONTHS_AHEAD = 3;

/** `events_p2026_05` for the month starting at `month` (UTC). */
function partitionName(month: Date): string {
  return `events_p${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

const addMonths = (month: Date, n: number): Date => new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + n, 1));

interface SavedDefinition {
  name: string;
  definition: string;
}

export class Analytics1795255100000 implements MigrationInterface {
  name = 'Analytics1795255100000';

  async up(q: QueryRunner): Promise<void> {
    await this.partitionEvents(q);
    await this.createRollups(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER contacts_analytics_deleted ON contacts`);
    await q.query(`DROP TRIGGER contacts_analytics_changed ON contacts`);
    await q.query(`DROP FUNCTION analytics_contacts_deleted()`);
    await q.query(`DROP FUNCTION analytics_contact_changed()`);
    for (const table of ['analytics_contact_changes', 'analytics_watermarks', 'analytics_form_stats', 'analytics_campaign_stats', 'analytics_channel_stats']) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`DROP INDEX submissions_created_brin`);
    await q.query(`DROP INDEX contacts_created_brin`);
    await q.query(`DROP FUNCTION analytics_campaign(text)`);
    await q.query(`DROP FUNCTION analytics_bucket(timestamptz)`);
    await this.unpartitionEvents(q);
  }

  /**
   * `events` becomes a table partitioned by month on occurred_at, keeping its rows, columns, ids, foreign
   * keys and indexes. The table is copied as it stands (LIKE, and index and foreign-key definitions read
   * from the catalog), so columns or indexes an earlier migration added come along. Writers wait on the
   * table lock for the duration of the copy.
   */
  private async partitionEvents(q: QueryRunner): Promise<void> {
    await this.refuseDependents(q);
    const indexes = await this.indexDefinitions(q, 'events');
    const foreignKeys = await this.foreignKeyDefinitions(q, 'events');

    await q.query(`ALTER TABLE events RENAME TO events_unpartitioned`);
    await q.query(`ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey`);
    await q.query(`ALTER SEQUENCE events_id_seq RENAME TO events_unpartitioned_id_seq`);

    // The primary key of a partitioned table must contain the partition key. Ids stay unique: one
    // sequence feeds them. A plain sequence default rather than an identity column: PostgreSQL 15 and
    // 16 do not allow identity columns on partitioned tables.
    await q.query(`CREATE SEQUENCE events_id_seq AS bigint`);
    await q.query(`
      CREATE TABLE events (
        LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS,
        PRIMARY KEY (id, occurred_at)
      ) PARTITION BY RANGE (occurred_at)`);
    await q.query(`ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq')`);
    await q.query(`ALTER SEQUENCE events_id_seq OWNED BY events.id`);

    // Months of the existing rows, the month ingestion still accepts backdated events for (30 days),
    // and the months ahead; anything else lands in the default partition.
    const [{ oldest }]: { oldest: Date | null }[] = await q.query(`SELECT min(occurred_at) AS oldest FROM events_unpartitioned`);
    const now = new Date();
    const floor = new Date(Math.min(now.getTime() - 31 * 86_400_000, oldest?.getTime() ?? Infinity));
    const last = addMonths(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), MONTHS_AHEAD);
    for (let month = new Date(Date.UTC(floor.getUTCFullYear(), floor.getUTCMonth(), 1)); month <= last; month = addMonths(month, 1)) {
      await q.query(
        `CREATE TABLE ${partitionName(month)} PARTITION OF events FOR VALUES FROM ('${month.toISOString()}') TO ('${addMonths(month, 1).toISOString()}')`,
      );
    }
    await q.query(`CREATE TABLE events_default PARTITION OF events DEFAULT`);

    // Rows first, then secondary indexes and foreign keys: one build and one check instead of one per row.
    await q.query(`INSERT INTO events SELECT * FROM events_unpartitioned`);
    await q.query(`SELECT setval('events_id_seq', COALESCE((SELECT max(id) FROM events), 0) + 1, false)`);
    await q.query(`DROP TABLE events_unpartitioned`);
    for (const index of indexes) await q.query(index.definition);
    for (const fk of foreignKeys) await q.query(`ALTER TABLE events ADD CONSTRAINT ${fk.name} ${fk.definition}`);

    // The rollup refresh reads what arrived since its watermark. Rows are appended in received_at
    // order inside each partition, so a BRIN index finds them for almost nothing on the ingestion path.
    await q.query(`CREATE INDEX events_received_brin ON events USING brin (received_at) WITH (pages_per_range = 32, autosummarize = on)`);
  }

  /** The reverse: one plain table with an identity id, rows and ids kept. */
  private async unpartitionEvents(q: QueryRunner): Promise<void> {
    await this.refuseDependents(q);
    await q.query(`DROP INDEX events_received_brin`);
    const indexes = await this.indexDefinitions(q, 'events');
    const foreignKeys = await this.foreignKeyDefinitions(q, 'events');

    await q.query(`ALTER TABLE events RENAME TO events_partitioned`);
    await q.query(`ALTER SEQUENCE events_id_seq RENAME TO events_partitioned_id_seq`);

    await q.query(`
      CREATE TABLE events (
        LIKE events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS
      )`);
    await q.query(`ALTER TABLE events ALTER COLUMN id DROP DEFAULT`);
    await q.query(`ALTER TABLE events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY`);
    await q.query(`INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM events_partitioned`);
    await q.query(`SELECT setval(pg_get_serial_sequence('events', 'id'), COALESCE((SELECT max(id) FROM events), 0) + 1, false)`);
    await q.query(`DROP TABLE events_partitioned`);
    await q.query(`ALTER TABLE events ADD PRIMARY KEY (id)`);
    for (const index of indexes) await q.query(index.definition);
    for (const fk of foreignKeys) await q.query(`ALTER TABLE events ADD CONSTRAINT ${fk.name} ${fk.definition}`);
  }

  /** Foreign keys pointing at events, or user triggers on it, would not survive the copy: stop with a message. */
  private async refuseDependents(q: QueryRunner): Promise<void> {
    const rows: { what: string }[] = await q.query(
      `SELECT format('foreign key %s on %s', conname, conrelid::regclass) AS what
         FROM pg_constraint WHERE contype = 'f' AND confrelid = 'events'::regclass
       UNION ALL
       SELECT format('trigger %s', tgname) FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal`,
    );
    if (rows.length > 0) {
      throw new Error(`events cannot be converted: ${rows.map((r) => r.what).join(', ')} depend on it; extend this migration to carry them`);
    }
  }

  /** CREATE INDEX statements of the table's secondary indexes, aimed at a table named `events`. */
  private async indexDefinitions(q: QueryRunner, table: string): Promise<SavedDefinition[]> {
    const rows: { name: string; definition: string }[] = await q.query(
      `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = $1::regclass AND NOT x.indisprimary
        ORDER BY i.relname`,
      [table],
    );
    // "CREATE INDEX n ON [ONLY] schema.events USING …": the ONLY of a partitioned parent is dropped so
    // that the index is built on every partition too.
    return rows.map((r) => ({ name: r.name, definition: r.definition.replace(/ ON (ONLY )?\S+ USING /, ' ON events USING ') }));
  }

  private async foreignKeyDefinitions(q: QueryRunner, table: string): Promise<SavedDefinition[]> {
    return q.query(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS definition
         FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND conparentid = 0
        ORDER BY conname`,
      [table],
    );
  }

  private async createRollups(q: QueryRunner): Promise<void> {
    // Rollups count in 15-minute UTC buckets: every IANA zone is offset from UTC by a multiple of
    // 15 minutes, so any zone's day is a whole number of buckets.
    await q.query(`
      CREATE FUNCTION analytics_bucket(at timestamptz) RETURNS timestamptz
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN date_bin('15 minutes', at, TIMESTAMPTZ '2000-01-01 00:00:00+00')`);
    // utm_campaign as typed, trimmed; '' when absent.
    await q.query(`
      CREATE FUNCTION analytics_campaign(raw text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN COALESCE(left(btrim(raw), 100), '')`);

    // Contacts counts (new, confirmed, pending) are recomputed per bucket from the contacts table;
    // form views and submissions are added as deltas from the rows that arrived since the watermark.
    // Two grains: 15-minute buckets, and their sums per hour (grain 60) so that a report reads a quarter
    // of the rows wherever day boundaries fall on whole hours. The primary keys carry the counts
    // (INCLUDE): a report is index-only range scans.
    await q.query(`
      CREATE TABLE analytics_channel_stats (
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        grain smallint NOT NULL CHECK (grain IN (15, 60)),
        bucket timestamptz NOT NULL,
        channel text NOT NULL,
        new_contacts integer NOT NULL DEFAULT 0,
        confirmed integer NOT NULL DEFAULT 0,
        pending integer NOT NULL DEFAULT 0,
        form_views integer NOT NULL DEFAULT 0,
        submissions integer NOT NULL DEFAULT 0,
        PRIMARY KEY (workspace_id, grain, bucket, channel) INCLUDE (new_contacts, confirmed, pending, form_views, submissions)
      )`);
    await q.query(`
      CREATE TABLE analytics_campaign_stats (
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        grain smallint NOT NULL CHECK (grain IN (15, 60)),
        bucket timestamptz NOT NULL,
        campaign text NOT NULL CHECK (campaign <> ''),
        new_contacts integer NOT NULL DEFAULT 0,
        confirmed integer NOT NULL DEFAULT 0,
        pending integer NOT NULL DEFAULT 0,
        form_views integer NOT NULL DEFAULT 0,
        submissions integer NOT NULL DEFAULT 0,
        PRIMARY KEY (workspace_id, grain, bucket, campaign) INCLUDE (new_contacts, confirmed, pending, form_views, submissions)
      )`);
    await q.query(`
      CREATE TABLE analytics_form_stats (
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        grain smallint NOT NULL CHECK (grain IN (15, 60)),
        bucket timestamptz NOT NULL,
        form_id uuid NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
        form_views integer NOT NULL DEFAULT 0,
        submissions integer NOT NULL DEFAULT 0,
        PRIMARY KEY (workspace_id, grain, bucket, form_id) INCLUDE (form_views, submissions)
      )`);
    await q.query(`CREATE INDEX analytics_form_stats_form_idx ON analytics_form_stats (form_id)`);

    // Per source: every row stamped (created_at / received_at) before processed_to is in the rollups.
    await q.query(`
      CREATE TABLE analytics_watermarks (
        source text PRIMARY KEY CHECK (source IN ('contacts', 'events', 'submissions')),
        processed_to timestamptz NOT NULL DEFAULT '-infinity',
        refreshed_at timestamptz
      )`);
    await q.query(`INSERT INTO analytics_watermarks (source) VALUES ('contacts'), ('events'), ('submissions')`);

    // Buckets whose contacts changed status or source, or were deleted, since the last refresh. Filled
    // by triggers in the writer's transaction, so a change is queued exactly when it commits.
    await q.query(`
      CREATE TABLE analytics_contact_changes (
        workspace_id uuid NOT NULL,
        bucket timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE FUNCTION analytics_contact_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO analytics_contact_changes (workspace_id, bucket)
        VALUES (OLD.workspace_id, analytics_bucket(OLD.created_at)), (NEW.workspace_id, analytics_bucket(NEW.created_at));
        RETURN NULL;
      END $$`);
    // Row level with a WHEN: the repeat-submission upsert, which changes none of these, calls no function.
    await q.query(`
      CREATE TRIGGER contacts_analytics_changed AFTER UPDATE ON contacts FOR EACH ROW
        WHEN (OLD.email_status IS DISTINCT FROM NEW.email_status
              OR OLD.sms_status IS DISTINCT FROM NEW.sms_status
              OR OLD.first_channel IS DISTINCT FROM NEW.first_channel
              OR OLD.first_touch->>'utm_campaign' IS DISTINCT FROM NEW.first_touch->>'utm_campaign'
              OR OLD.created_at IS DISTINCT FROM NEW.created_at)
        EXECUTE FUNCTION analytics_contact_changed()`);
    // Statement level: erasing a workspace's contacts queues each bucket once, not once per contact.
    await q.query(`
      CREATE FUNCTION analytics_contacts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO analytics_contact_changes (workspace_id, bucket)
        SELECT DISTINCT workspace_id, analytics_bucket(created_at) FROM deleted;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER contacts_analytics_deleted AFTER DELETE ON contacts REFERENCING OLD TABLE AS deleted
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_contacts_deleted()`);

    // New rows since a watermark, across workspaces: contacts and submissions are appended in
    // created_at order, which BRIN indexes exploit at almost no cost to inserts.
    await q.query(`CREATE INDEX contacts_created_brin ON contacts USING brin (created_at) WITH (pages_per_range = 32, autosummarize = on)`);
    await q.query(`CREATE INDEX submissions_created_brin ON submissions USING brin (created_at) WITH (pages_per_range = 32, autosummarize = on)`);
  }
}
