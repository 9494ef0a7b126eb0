import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LeadCapture1795254000000 implements MigrationInterface {
  name = 'LeadCapture1795254000000';

  async up(q: QueryRunner): Promise<void> {
    // A form's current definition; every change bumps `version` and keeps a snapshot in form_versions.
    // Slugs are global, like usernames: /f/{slug} is a link in bio.
    await q.query(`
      CREATE TABLE forms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        name text NOT NULL,
        slug text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
        version integer NOT NULL DEFAULT 1,
        definition jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX forms_slug_key ON forms (slug)`);
    await q.query(`CREATE INDEX forms_workspace_created_idx ON forms (workspace_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE form_versions (
        form_id uuid NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
        version integer NOT NULL,
        definition jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (form_id, version)
      )`);

    await q.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        email text,
        phone text,
        first_name text,
        last_name text,
        attributes jsonb NOT NULL DEFAULT '{}',
        tags text[] NOT NULL DEFAULT '{}',
        email_status text NOT NULL DEFAULT 'none' CHECK (email_status IN ('none', 'pending', 'subscribed', 'unsubscribed')),
        sms_status text NOT NULL DEFAULT 'none' CHECK (sms_status IN ('none', 'pending', 'subscribed', 'unsubscribed')),
        first_touch jsonb,
        last_touch jsonb,
        first_channel text,
        last_channel text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT contacts_email_lowercase CHECK (email = lower(email))
      )`);
    await q.query(`CREATE UNIQUE INDEX contacts_workspace_email_key ON contacts (workspace_id, email) WHERE email IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX contacts_workspace_phone_key ON contacts (workspace_id, phone) WHERE phone IS NOT NULL`);
    await q.query(`CREATE INDEX contacts_workspace_created_idx ON contacts (workspace_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX contacts_tags_idx ON contacts USING gin (tags)`);
    await q.query(`CREATE INDEX contacts_workspace_first_channel_idx ON contacts (workspace_id, first_channel)`);

    // Anonymous ids a contact was seen with (from the embed), for stitching earlier events.
    await q.query(`
      CREATE TABLE contact_identities (
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        anonymous_id text NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, anonymous_id)
      )`);

    await q.query(`
      CREATE TABLE submissions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        form_id uuid NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
        form_version integer NOT NULL,
        contact_id uuid REFERENCES contacts (id) ON DELETE SET NULL,
        "values" jsonb NOT NULL,
        context jsonb NOT NULL DEFAULT '{}',
        channel text NOT NULL,
        ip inet,
        user_agent text,
        status integer NOT NULL,
        idempotency_key text,
        -- Same key with another body is refused, not answered with the first body's result.
        request_hash text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX submissions_form_idempotency_key ON submissions (form_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX submissions_contact_idx ON submissions (contact_id, created_at)`);
    await q.query(`CREATE INDEX submissions_workspace_created_idx ON submissions (workspace_id, created_at)`);

    // Append-only consent ledger: what was shown, when, from where, and what became of it.
    await q.query(`
      CREATE TABLE consents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        status text NOT NULL CHECK (status IN ('granted', 'pending', 'confirmed', 'withdrawn')),
        source text NOT NULL CHECK (source IN ('form', 'import', 'api', 'double_opt_in', 'unsubscribe')),
        form_id uuid REFERENCES forms (id) ON DELETE SET NULL,
        form_version integer,
        submission_id uuid REFERENCES submissions (id) ON DELETE SET NULL,
        wording text,
        ip inet,
        user_agent text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX consents_contact_idx ON consents (contact_id, created_at)`);

    await q.query(`
      CREATE TABLE confirmation_tokens (
        token_hash text PRIMARY KEY,
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        submission_id uuid REFERENCES submissions (id) ON DELETE SET NULL,
        expires_at timestamptz(3) NOT NULL,
        confirmed_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX confirmation_tokens_submission_idx ON confirmation_tokens (submission_id)`);

    // Every message sent or attempted; dedupe_key makes a send at-most-once.
    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        contact_id uuid REFERENCES contacts (id) ON DELETE SET NULL,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        kind text NOT NULL,
        dedupe_key text NOT NULL,
        recipient text,
        subject text,
        body text,
        provider text,
        provider_message_id text,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'suppressed')),
        error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        sent_at timestamptz(3)
      )`);
    await q.query(`CREATE UNIQUE INDEX messages_workspace_dedupe_key ON messages (workspace_id, dedupe_key)`);
    await q.query(`CREATE INDEX messages_contact_idx ON messages (contact_id, created_at)`);

    // Hashes of erased addresses: an erased person is not silently re-imported.
    await q.query(`
      CREATE TABLE suppressions (
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        identity_hash text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, identity_hash)
      )`);

    await q.query(`
      CREATE TABLE events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        type text NOT NULL,
        anonymous_id text,
        contact_id uuid REFERENCES contacts (id) ON DELETE SET NULL,
        properties jsonb NOT NULL DEFAULT '{}',
        context jsonb NOT NULL DEFAULT '{}',
        channel text,
        occurred_at timestamptz(3) NOT NULL,
        received_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX events_anonymous_idx ON events (workspace_id, anonymous_id) WHERE contact_id IS NULL`);
    await q.query(`CREATE INDEX events_contact_idx ON events (contact_id, occurred_at)`);

    // A CSV import: the file is kept only until the import finishes (it holds personal data);
    // processed_rows is the resume point of a retried job, committed with each batch.
    await q.query(`
      CREATE TABLE import_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
        csv text NOT NULL,
        consent_basis text,
        tags text[] NOT NULL DEFAULT '{}',
        default_country text,
        total_rows integer NOT NULL DEFAULT 0,
        processed_rows integer NOT NULL DEFAULT 0,
        created_contacts integer NOT NULL DEFAULT 0,
        updated_contacts integer NOT NULL DEFAULT 0,
        failed_rows integer NOT NULL DEFAULT 0,
        -- All row errors are counted; the first ones are kept in errors.
        error_count integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]',
        attempts integer NOT NULL DEFAULT 0,
        failure text,
        idempotency_key text,
        request_hash text,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX import_jobs_workspace_created_idx ON import_jobs (workspace_id, created_at DESC, id DESC)`);
    await q.query(`CREATE UNIQUE INDEX import_jobs_idempotency_key ON import_jobs (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'import_jobs',
      'events',
      'suppressions',
      'messages',
      'confirmation_tokens',
      'consents',
      'submissions',
      'contact_identities',
      'contacts',
      'form_versions',
      'forms',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
