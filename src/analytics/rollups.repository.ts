import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type RollupSource = 'contacts' | 'events' | 'submissions';

// Per source, the instant before which every row is in the rollups, as PostgreSQL wrote it
// ('-infinity' before the first refresh): passed back to SQL untouched.
export type Watermarks = Record<RollupSource, string>;

/** Every workspace's rows that arrived since the watermarks, or one workspace rebuilt from scratch. */
export type RollupScope = { kind: 'since-watermarks'; horizon: Date } | { kind: 'workspace'; workspaceId: string };

const SOURCES: readonly RollupSource[] = ['contacts', 'events', 'submissions'];

// The three rollups: their key column, whether they count contacts, and which traffic rows they take.
const ROLLUPS = [
  { table: 'analytics_form_stats', key: 'form_id', contacts: false, filter: '', counts: ['form_views', 'submissions'] },
  { table: 'analytics_channel_stats', key: 'channel', contacts: true, filter: '', counts: ['new_contacts', 'confirmed', 'pending', 'form_views', 'submissions'] },
  { table: 'analytics_campaign_stats', key: 'campaign', contacts: true, filter: `WHERE campaign <> ''`, counts: ['new_contacts', 'confirmed', 'pending', 'form_views', 'submissions'] },
] as const;

/**
 * The SQL that keeps the analytics rollups current. Every method runs inside the caller's transaction
 * (RollupsService.refresh), which holds the watermark rows locked: refreshes are serialised, and each
 * row of a source is counted by exactly one of them.
 *
 * Traffic (form views, submissions) is additive: the rows that arrived in [watermark, horizon) are
 * counted and added to the buckets. Contact counts (new, confirmed, pending) depend on contacts' current
 * state, so the buckets that saw new or changed contacts are recomputed from the contacts table.
 */
@Injectable()
export class RollupsRepository {
  /**
   * Locks the watermark rows, waiting for a refresh in progress or (wait = false) failing at once with
   * lock_not_available. Returns each source's watermark.
   */
  async lockWatermarks(em: EntityManager, wait: boolean): Promise<Watermarks> {
    const rows = await em.query<{ source: RollupSource; processedTo: string }[]>(
      `SELECT source, processed_to::text AS "processedTo" FROM analytics_watermarks ORDER BY source FOR UPDATE ${wait ? '' : 'NOWAIT'}`,
    );
    const marks = Object.fromEntries(rows.map((r) => [r.source, r.processedTo])) as Partial<Watermarks>;
    for (const source of SOURCES) if (!marks[source]) throw new Error(`analytics_watermarks has no row for ${source}`);
    return marks as Watermarks;
  }

  /**
   * The instant before which no row can still appear. Rows are stamped with now(), the start of the
   * writer's transaction, so every row stamped before the start of the oldest transaction still open is
   * committed (or never will be): the safety lag is exactly as long as the transactions in flight. The
   * second of margin covers a transaction that has taken its start time but is not listed yet; the
   * millisecond, stamps rounded to timestamptz(3). PostgreSQL lists the start of other roles'
   * sessions only to superusers and pg_read_all_stats: writers use the app's role.
   */
  async horizon(em: EntityManager): Promise<Date> {
    const [{ horizon }] = await em.query<{ horizon: Date }[]>(
      `SELECT date_trunc('milliseconds', LEAST(
                clock_timestamp() - interval '1 second',
                (SELECT min(xact_start) FROM pg_stat_activity
                  WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid())
              )) - interval '1 millisecond' AS horizon`,
    );
    return horizon;
  }

  /**
   * Form views (events of type form_view naming a form of their workspace) and submissions, counted
   * per 15-minute bucket, form, channel and campaign into a temporary table. Returns its row count.
   */
  async collectTraffic(em: EntityManager, marks: Watermarks, scope: RollupScope): Promise<number> {
    const [eventsWindow, submissionsWindow, params] =
      scope.kind === 'since-watermarks'
        ? [`e.received_at >= $1 AND e.received_at < $3`, `s.created_at >= $2 AND s.created_at < $3`, [marks.events, marks.submissions, scope.horizon]]
        : // A rebuild counts what earlier refreshes counted: rows before the watermarks.
          [`e.workspace_id = $3 AND e.received_at < $1`, `s.workspace_id = $3 AND s.created_at < $2`, [marks.events, marks.submissions, scope.workspaceId]];
    await em.query(
      `CREATE TEMP TABLE analytics_traffic ON COMMIT DROP AS
       SELECT workspace_id, bucket, form_id, channel, campaign, sum(form_views)::int AS form_views, sum(submissions)::int AS submissions
         FROM (
               SELECT e.workspace_id, analytics_bucket(e.occurred_at) AS bucket, f.id AS form_id,
                      COALESCE(e.channel, 'unknown') AS channel, analytics_campaign(e.context->>'utm_campaign') AS campaign,
                      1 AS form_views, 0 AS submissions
                 FROM events e
                 JOIN forms f ON f.workspace_id = e.workspace_id AND f.id::text = e.properties->>'formId'
                WHERE e.type = 'form_view' AND ${eventsWindow}
               UNION ALL
               SELECT s.workspace_id, analytics_bucket(s.created_at), s.form_id,
                      s.channel, analytics_campaign(s.context->>'utm_campaign'),
                      0, 1
                 FROM submissions s
                WHERE ${submissionsWindow}
              ) arrived
        GROUP BY workspace_id, bucket, form_id, channel, campaign`,
      params,
    );
    return this.analyzed(em, 'analytics_traffic');
  }

  /** Adds the collected traffic to the three rollups' 15-minute rows. */
  async addTraffic(em: EntityManager): Promise<void> {
    for (const { table, key, filter } of ROLLUPS) {
      await em.query(
        `INSERT INTO ${table} AS t (workspace_id, grain, bucket, ${key}, form_views, submissions)
         SELECT workspace_id, 15, bucket, ${key}, sum(form_views), sum(submissions) FROM analytics_traffic ${filter}
          GROUP BY workspace_id, bucket, ${key}
         ON CONFLICT (workspace_id, grain, bucket, ${key}) DO UPDATE
            SET form_views = t.form_views + EXCLUDED.form_views, submissions = t.submissions + EXCLUDED.submissions`,
      );
    }
  }

  /**
   * The buckets whose contact counts must be recomputed: those of contacts created since the watermark,
   * and those the triggers queued (status or source changed, contact deleted), consumed here. Returns
   * how many.
   */
  async collectContactBuckets(em: EntityManager, marks: Watermarks, scope: RollupScope): Promise<number> {
    if (scope.kind === 'since-watermarks') {
      await em.query(
        `CREATE TEMP TABLE analytics_dirty ON COMMIT DROP AS
         WITH queued AS (DELETE FROM analytics_contact_changes RETURNING workspace_id, bucket)
         SELECT workspace_id, bucket FROM queued
         UNION
         SELECT workspace_id, analytics_bucket(created_at) FROM contacts WHERE created_at >= $1 AND created_at < $2`,
        [marks.contacts, scope.horizon],
      );
    } else {
      await em.query(
        `CREATE TEMP TABLE analytics_dirty ON COMMIT DROP AS
         SELECT DISTINCT workspace_id, analytics_bucket(created_at) AS bucket FROM contacts WHERE workspace_id = $1`,
        [scope.workspaceId],
      );
    }
    return this.analyzed(em, 'analytics_dirty');
  }

  /**
   * Contacts created in each collected bucket, by first-touch channel and campaign, and how many of them
   * are confirmed (subscribed on a channel) or pending (a double opt-in not yet confirmed). The buckets'
   * contact columns are replaced, not added to: recomputing twice gives the same numbers.
   */
  async recomputeContacts(em: EntityManager): Promise<void> {
    await em.query(
      `CREATE TEMP TABLE analytics_contact_counts ON COMMIT DROP AS
       SELECT d.workspace_id, d.bucket, c.*
         FROM analytics_dirty d
         CROSS JOIN LATERAL (
               SELECT COALESCE(first_channel, 'unknown') AS channel,
                      analytics_campaign(first_touch->>'utm_campaign') AS campaign,
                      count(*)::int AS new_contacts,
                      (count(*) FILTER (WHERE email_status = 'subscribed' OR sms_status = 'subscribed'))::int AS confirmed,
                      (count(*) FILTER (WHERE (email_status = 'pending' OR sms_status = 'pending')
                                          AND email_status <> 'subscribed' AND sms_status <> 'subscribed'))::int AS pending
                 FROM contacts
                WHERE workspace_id = d.workspace_id AND created_at >= d.bucket AND created_at < d.bucket + interval '15 minutes'
                GROUP BY 1, 2) c`,
    );
    for (const { table, key, filter } of ROLLUPS.filter((r) => r.contacts)) {
      await em.query(
        `UPDATE ${table} t SET new_contacts = 0, confirmed = 0, pending = 0
           FROM analytics_dirty d
          WHERE t.workspace_id = d.workspace_id AND t.grain = 15 AND t.bucket = d.bucket AND (t.new_contacts, t.confirmed, t.pending) <> (0, 0, 0)`,
      );
      await em.query(
        `INSERT INTO ${table} AS t (workspace_id, grain, bucket, ${key}, new_contacts, confirmed, pending)
         SELECT workspace_id, 15, bucket, ${key}, sum(new_contacts), sum(confirmed), sum(pending) FROM analytics_contact_counts ${filter}
          GROUP BY workspace_id, bucket, ${key}
         ON CONFLICT (workspace_id, grain, bucket, ${key}) DO UPDATE
            SET new_contacts = EXCLUDED.new_contacts, confirmed = EXCLUDED.confirmed, pending = EXCLUDED.pending`,
      );
    }
  }

  /**
   * Recomputes the coarser rows of everything this refresh touched: the hours (grain 60) from their
   * four quarters, then the UTC days (grain 1440) from their 24 hours. Replaced, not incremented, so
   * each grain always equals the one below it.
   */
  async deriveHoursAndDays(em: EntityManager): Promise<void> {
    await em.query(
      `CREATE TEMP TABLE analytics_hours ON COMMIT DROP AS
       SELECT workspace_id, date_trunc('hour', bucket, 'UTC') AS bucket FROM analytics_traffic
       UNION
       SELECT workspace_id, date_trunc('hour', bucket, 'UTC') FROM analytics_dirty`,
    );
    await this.analyzed(em, 'analytics_hours');
    await this.derive(em, 'analytics_hours', { from: 15, to: 60 });
    await em.query(
      `CREATE TEMP TABLE analytics_days ON COMMIT DROP AS
       SELECT DISTINCT workspace_id, date_trunc('day', bucket, 'UTC') AS bucket FROM analytics_hours`,
    );
    await this.analyzed(em, 'analytics_days');
    await this.derive(em, 'analytics_days', { from: 60, to: 1440 });
  }

  /** The rows of grain `to` listed in `buckets`, each the sum of its rows of grain `from`. */
  private async derive(em: EntityManager, buckets: string, grains: { from: number; to: number }): Promise<void> {
    for (const { table, key, counts } of ROLLUPS) {
      await em.query(
        `UPDATE ${table} t SET ${counts.map((c) => `${c} = 0`).join(', ')}
           FROM ${buckets} b
          WHERE t.workspace_id = b.workspace_id AND t.grain = $1::int AND t.bucket = b.bucket`,
        [grains.to],
      );
      // Per bucket, its parts by index range (LATERAL): a hash or merge join would compare every bucket
      // with every row. Minutes, not '1 day': a day is 24 hours in UTC whatever the session's zone.
      await em.query(
        `INSERT INTO ${table} AS t (workspace_id, grain, bucket, ${key}, ${counts.join(', ')})
         SELECT b.workspace_id, $1::int, b.bucket, p.*
           FROM ${buckets} b
           CROSS JOIN LATERAL (
                 SELECT ${key}, ${counts.map((c) => `sum(${c})`).join(', ')}
                   FROM ${table}
                  WHERE workspace_id = b.workspace_id AND grain = $2::int AND bucket >= b.bucket AND bucket < b.bucket + make_interval(mins => $1::int)
                  GROUP BY ${key}) p
         ON CONFLICT (workspace_id, grain, bucket, ${key}) DO UPDATE
            SET ${counts.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
        [grains.to, grains.from],
      );
    }
  }

  /** Moves every watermark to the horizon (never back). */
  async advance(em: EntityManager, horizon: Date): Promise<void> {
    await em.query(`UPDATE analytics_watermarks SET processed_to = GREATEST(processed_to, $1), refreshed_at = clock_timestamp()`, [horizon]);
  }

  /**
   * Statistics for a temporary table, and its row count. It holds a handful of rows after a minute and
   * millions in a backfill: without them the planner guesses, and a wrong guess scans whole rollups.
   */
  private async analyzed(em: EntityManager, table: string): Promise<number> {
    await em.query(`ANALYZE ${table}`);
    const [{ n }] = await em.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`);
    return n;
  }

  /** Forgets one workspace's rollups, before a rebuild. */
  async clearWorkspace(em: EntityManager, workspaceId: string): Promise<void> {
    for (const { table } of ROLLUPS) await em.query(`DELETE FROM ${table} WHERE workspace_id = $1`, [workspaceId]);
  }
}
