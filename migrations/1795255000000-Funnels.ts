import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Funnels1795255000000 implements MigrationInterface {
  name = 'Funnels1795255000000';

  async up(q: QueryRunner): Promise<void> {
    // What happened to a contact, recorded inside the business transaction that made it happen; never
    // updated. dedupe_key names the source (a submission, a tracked event, a provider event id): a replayed
    // source is recorded once. No foreign key to workspaces: rows go with their contact, which goes with it.
    await q.query(`
      CREATE TABLE domain_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace_id uuid NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        type text NOT NULL,
        properties jsonb NOT NULL DEFAULT '{}',
        dedupe_key text NOT NULL,
        occurred_at timestamptz(3) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX domain_events_workspace_dedupe_key ON domain_events (workspace_id, dedupe_key)`);
    await q.query(`CREATE INDEX domain_events_contact_idx ON domain_events (contact_id)`);

    // The events the funnel rule engine has not evaluated yet: its processed state. A batch claims rows
    // by deleting them (SKIP LOCKED), so a failed batch puts them back by rolling back, and the table
    // stays as small as the backlog. No foreign key: a row whose event is gone is dropped when claimed.
    await q.query(`
      CREATE TABLE domain_event_queue (
        workspace_id uuid NOT NULL,
        event_id bigint NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, event_id)
      )`);

    await q.query(`
      CREATE TABLE funnels (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
        skipped_stages_count boolean NOT NULL DEFAULT true,
        -- Bumped by every change: with updated_at, it tells a process its cached rules are stale.
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX funnels_workspace_created_idx ON funnels (workspace_id, created_at DESC, id DESC)`);

    // A stage removed from a funnel is archived, never deleted: history rows keep pointing at it, and
    // re-adding its key brings the same stage back.
    await q.query(`
      CREATE TABLE funnel_stages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        funnel_id uuid NOT NULL REFERENCES funnels (id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        position integer NOT NULL,
        rules jsonb NOT NULL DEFAULT '[]',
        archived_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX funnel_stages_funnel_key ON funnel_stages (funnel_id, key)`);

    // Where each contact stands in each funnel now. Written in bulk by the rule engine: only the foreign
    // keys that cascade (funnel, contact, stage) are kept; the workspace's rows go with its funnels.
    // channel: the contact's first-touch channel (contacts.first_channel) as known when it entered the funnel.
    await q.query(`
      CREATE TABLE funnel_contacts (
        workspace_id uuid NOT NULL,
        funnel_id uuid NOT NULL REFERENCES funnels (id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        stage_id uuid NOT NULL REFERENCES funnel_stages (id) ON DELETE CASCADE,
        channel text,
        entered_at timestamptz(3) NOT NULL,
        funnel_entered_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (funnel_id, contact_id)
      )`);
    // The contact list: latest entry first, in one stage or all.
    await q.query(`CREATE INDEX funnel_contacts_stage_idx ON funnel_contacts (funnel_id, stage_id, entered_at, contact_id)`);
    await q.query(`CREATE INDEX funnel_contacts_entered_idx ON funnel_contacts (funnel_id, entered_at, contact_id)`);
    await q.query(`CREATE INDEX funnel_contacts_contact_idx ON funnel_contacts (contact_id)`);

    // Every stage entry, append-only. A rule or skip row names the domain event behind it; the unique
    // index makes a replayed event unable to enter the same stage twice. Foreign keys as for funnel_contacts.
    // What the report needs is written with the entry: first_entry (the contact's first entry into the
    // stage: one per contact and stage), channel (as on funnel_contacts) and seconds_from_previous (since
    // entering the stage before it, when the contact came from there).
    await q.query(`
      CREATE TABLE funnel_stage_history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace_id uuid NOT NULL,
        funnel_id uuid NOT NULL REFERENCES funnels (id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        stage_id uuid NOT NULL REFERENCES funnel_stages (id) ON DELETE CASCADE,
        from_stage_id uuid,
        entered_at timestamptz(3) NOT NULL,
        source text NOT NULL CHECK (source IN ('rule', 'skip', 'manual')),
        domain_event_id bigint,
        event_type text,
        first_entry boolean NOT NULL DEFAULT true,
        channel text,
        seconds_from_previous double precision,
        actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        actor_api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
        reason text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        -- A rule entry names its event; a manual one has none (its skips neither), it has an actor and a reason.
        CONSTRAINT funnel_stage_history_rule_event CHECK (source <> 'rule' OR domain_event_id IS NOT NULL),
        CONSTRAINT funnel_stage_history_manual_event CHECK (source <> 'manual' OR domain_event_id IS NULL)
      )`);
    await q.query(`
      CREATE UNIQUE INDEX funnel_stage_history_event_key ON funnel_stage_history (domain_event_id, funnel_id, stage_id)
       WHERE domain_event_id IS NOT NULL`);
    await q.query(`
      CREATE UNIQUE INDEX funnel_stage_history_first_key ON funnel_stage_history (funnel_id, contact_id, stage_id)
       WHERE first_entry`);
    // Medians of the report: one funnel's timed first entries in a window, without touching the table.
    await q.query(`
      CREATE INDEX funnel_stage_history_timed_idx ON funnel_stage_history (funnel_id, entered_at)
       INCLUDE (workspace_id, stage_id, channel, seconds_from_previous) WHERE first_entry AND seconds_from_previous IS NOT NULL`);
    await q.query(`CREATE INDEX funnel_stage_history_contact_idx ON funnel_stage_history (contact_id)`);

    // Counts of the report, per funnel, 15-minute slot (UTC), stage and first-touch channel ('' when
    // unknown): first entries, and contacts in the stage now who entered it in that slot. Every time
    // zone's offset is a multiple of 15 minutes, so slots add up to local days exactly. Kept by
    // statement triggers on history and current stages: whoever writes them (the engine, a manual move,
    // an erasure's cascade, a seed) keeps the counts right, with one upsert per statement.
    await q.query(`
      CREATE TABLE funnel_stage_counts (
        funnel_id uuid NOT NULL REFERENCES funnels (id) ON DELETE CASCADE,
        slot timestamptz NOT NULL,
        stage_id uuid NOT NULL,
        channel text NOT NULL,
        workspace_id uuid NOT NULL,
        entered integer NOT NULL DEFAULT 0,
        still_in integer NOT NULL DEFAULT 0,
        PRIMARY KEY (funnel_id, slot, stage_id, channel)
      )`);
    await q.query(`
      CREATE FUNCTION funnel_counts_slot(at timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00') $$`);
    // Increments are upserts in key order (two writers never lock the same rows in opposite orders);
    // decrements only update: a row already gone with its funnel stays gone.
    await q.query(`
      CREATE FUNCTION funnel_history_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO funnel_stage_counts AS c (funnel_id, slot, stage_id, channel, workspace_id, entered)
          SELECT funnel_id, funnel_counts_slot(entered_at), stage_id, coalesce(channel, ''), workspace_id, count(*)
            FROM new_rows WHERE first_entry
           GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
          ON CONFLICT (funnel_id, slot, stage_id, channel) DO UPDATE SET entered = c.entered + EXCLUDED.entered;
        ELSE
          UPDATE funnel_stage_counts c SET entered = c.entered - d.n
            FROM (SELECT funnel_id, funnel_counts_slot(entered_at) AS slot, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                    FROM old_rows WHERE first_entry GROUP BY 1, 2, 3, 4) d
           WHERE c.funnel_id = d.funnel_id AND c.slot = d.slot AND c.stage_id = d.stage_id AND c.channel = d.channel;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER funnel_history_counted_insert AFTER INSERT ON funnel_stage_history
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_history_counted()`);
    await q.query(`
      CREATE TRIGGER funnel_history_counted_delete AFTER DELETE ON funnel_stage_history
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_history_counted()`);
    await q.query(`
      CREATE FUNCTION funnel_contacts_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          UPDATE funnel_stage_counts c SET still_in = c.still_in - d.n
            FROM (SELECT funnel_id, funnel_counts_slot(entered_at) AS slot, stage_id, coalesce(channel, '') AS channel, count(*) AS n
                    FROM old_rows GROUP BY 1, 2, 3, 4) d
           WHERE c.funnel_id = d.funnel_id AND c.slot = d.slot AND c.stage_id = d.stage_id AND c.channel = d.channel;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO funnel_stage_counts AS c (funnel_id, slot, stage_id, channel, workspace_id, still_in)
          SELECT funnel_id, funnel_counts_slot(entered_at), stage_id, coalesce(channel, ''), workspace_id, count(*)
            FROM new_rows
           GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4
          ON CONFLICT (funnel_id, slot, stage_id, channel) DO UPDATE SET still_in = c.still_in + EXCLUDED.still_in;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER funnel_contacts_counted_insert AFTER INSERT ON funnel_contacts
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_contacts_counted()`);
    await q.query(`
      CREATE TRIGGER funnel_contacts_counted_update AFTER UPDATE ON funnel_contacts
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_contacts_counted()`);
    await q.query(`
      CREATE TRIGGER funnel_contacts_counted_delete AFTER DELETE ON funnel_contacts
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_contacts_counted()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['funnel_stage_counts', 'funnel_stage_history', 'funnel_contacts', 'funnel_stages', 'funnels', 'domain_event_queue', 'domain_events']) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`DROP FUNCTION funnel_contacts_counted()`);
    await q.query(`DROP FUNCTION funnel_history_counted()`);
    await q.query(`DROP FUNCTION funnel_counts_slot(timestamptz)`);
  }
}
