import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination.js';
import { retryOnConflict } from '../database/conflict-retry.js';
import { PG_ERROR } from '../database/pg-errors.js';
import { CONTACT_COLUMNS, type ContactRow } from './contact.types.js';
import type { ContactListQuery } from './contacts.dto.js';

export interface ConsentRow {
  id: string;
  channel: 'email' | 'sms';
  status: string;
  source: string;
  formId: string | null;
  formVersion: number | null;
  wording: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
}

export interface TimelineRow {
  kind: 'submission' | 'consent' | 'event' | 'message';
  at: Date;
  summary: string;
  data: Record<string, unknown>;
}

export interface ContactPatch {
  firstName?: string;
  lastName?: string;
  attributes?: Record<string, unknown>;
  addTags?: string[];
  removeTags?: string[];
}

// LIKE wildcards in user text are literal.
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

@Injectable()
export class ContactsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  list(workspaceId: string, q: ContactListQuery, limit: number, after: Keyset | null): Promise<ContactRow[]> {
    const params: unknown[] = [workspaceId];
    const where = ['workspace_id = $1'];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (q.tag) add((p) => `tags @> ARRAY[${p}]::text[]`, q.tag);
    if (q.firstChannel) add((p) => `first_channel = ${p}`, q.firstChannel);
    if (q.lastChannel) add((p) => `last_channel = ${p}`, q.lastChannel);
    if (q.emailStatus) add((p) => `email_status = ${p}`, q.emailStatus);
    if (q.smsStatus) add((p) => `sms_status = ${p}`, q.smsStatus);
    if (q.createdFrom) add((p) => `created_at >= ${p}::timestamptz`, q.createdFrom);
    if (q.createdTo) add((p) => `created_at < ${p}::timestamptz`, q.createdTo);
    if (q.q) {
      add(
        (p) => `(email LIKE ${p} OR phone LIKE ${p} OR lower(first_name) LIKE ${p} OR lower(last_name) LIKE ${p} OR lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) LIKE ${p})`,
        `%${likeEscape(q.q.toLowerCase())}%`,
      );
    }
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    return this.ds.query<ContactRow[]>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async findById(workspaceId: string, id: string): Promise<ContactRow | null> {
    const rows = await this.ds.query<ContactRow[]>(`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return rows[0] ?? null;
  }

  /** In the caller's transaction; also returns the tags the contact did not have before (for tag.added). */
  async update(em: EntityManager, workspaceId: string, id: string, p: ContactPatch): Promise<(ContactRow & { addedTags: string[] }) | null> {
    const attributes = p.attributes ?? {};
    const removeKeys = Object.keys(attributes).filter((k) => attributes[k] === null);
    const set = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
    const [rows] = await em.query<[(ContactRow & { addedTags: string[] })[], number]>(
      `WITH before AS (SELECT id AS before_id, tags AS before_tags FROM contacts WHERE workspace_id = $1 AND id = $2 FOR UPDATE)
       UPDATE contacts SET
         first_name = COALESCE($3, first_name),
         last_name = COALESCE($4, last_name),
         attributes = (attributes - $5::text[]) || $6::jsonb,
         tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || $7::text[]) AS t WHERE t <> ALL($8::text[]) ORDER BY t),
         updated_at = now()
        FROM before
       WHERE workspace_id = $1 AND id = before.before_id
       RETURNING ${CONTACT_COLUMNS}, ARRAY(SELECT t FROM unnest(tags) AS t WHERE t <> ALL(before_tags) ORDER BY t) AS "addedTags"`,
      [workspaceId, id, p.firstName ?? null, p.lastName ?? null, removeKeys, JSON.stringify(set), p.addTags ?? [], p.removeTags ?? []],
    );
    return rows[0] ?? null;
  }

  /**
   * GDPR erasure: the contact, its identities, consents and events go; submissions and messages lose
   * their personal data; the address hashes stay as suppression tombstones. One transaction.
   */
  async erase(workspaceId: string, id: string, hashes: string[]): Promise<boolean> {
    // Its cascade into funnel stages can deadlock with the rule engine moving the same contact: run again.
    return retryOnConflict(() => this.ds.transaction(async (em) => {
      const found = await em.query<unknown[]>(`SELECT 1 FROM contacts WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, [workspaceId, id]);
      if (found.length === 0) return false;
      await em.query(
        `INSERT INTO suppressions (workspace_id, identity_hash, reason) SELECT $1, h, 'erased' FROM unnest($2::text[]) AS h
         ON CONFLICT DO NOTHING`,
        [workspaceId, hashes],
      );
      await em.query(
        `DELETE FROM events WHERE workspace_id = $1 AND (contact_id = $2 OR anonymous_id IN
           (SELECT anonymous_id FROM contact_identities WHERE workspace_id = $1 AND contact_id = $2))`,
        [workspaceId, id],
      );
      await em.query(
        `UPDATE submissions SET "values" = '{}', context = '{}', ip = NULL, user_agent = NULL, contact_id = NULL
          WHERE workspace_id = $1 AND contact_id = $2`,
        [workspaceId, id],
      );
      await em.query(
        `UPDATE messages SET recipient = NULL, subject = NULL, body = NULL, contact_id = NULL WHERE workspace_id = $1 AND contact_id = $2`,
        [workspaceId, id],
      );
      await em.query(`DELETE FROM contacts WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
      return true;
    }), { attempts: 3, codes: [PG_ERROR.deadlockDetected] });
  }

  consents(workspaceId: string, contactId: string): Promise<ConsentRow[]> {
    return this.ds.query<ConsentRow[]>(
      `SELECT id, channel, status, source, form_id AS "formId", form_version AS "formVersion", wording, host(ip) AS ip,
              user_agent AS "userAgent", created_at AS "createdAt"
         FROM consents WHERE workspace_id = $1 AND contact_id = $2 ORDER BY created_at, id`,
      [workspaceId, contactId],
    );
  }

  /** Newest first, across what happened to the contact. */
  timeline(workspaceId: string, contactId: string, before: string | null, limit: number): Promise<TimelineRow[]> {
    return this.ds.query<TimelineRow[]>(
      `SELECT * FROM (
         SELECT 'submission' AS kind, created_at AS at, 'form ' || form_id || ' (' || channel || ')' AS summary,
                jsonb_build_object('id', id, 'formId', form_id, 'formVersion', form_version, 'channel', channel, 'values', "values", 'context', context) AS data
           FROM submissions WHERE workspace_id = $1 AND contact_id = $2
         UNION ALL
         SELECT 'consent', created_at, channel || ' ' || status || ' (' || source || ')',
                jsonb_build_object('id', id, 'channel', channel, 'status', status, 'source', source, 'wording', wording)
           FROM consents WHERE workspace_id = $1 AND contact_id = $2
         UNION ALL
         SELECT 'event', occurred_at, type, jsonb_build_object('id', id, 'type', type, 'properties', properties, 'context', context)
           FROM events WHERE workspace_id = $1 AND contact_id = $2
         UNION ALL
         SELECT 'message', created_at, channel || ' ' || kind || ' ' || status,
                jsonb_build_object('id', id, 'channel', channel, 'kind', kind, 'status', status, 'subject', subject)
           FROM messages WHERE workspace_id = $1 AND contact_id = $2
       ) t
       WHERE $3::timestamptz IS NULL OR at < $3::timestamptz
       ORDER BY at DESC LIMIT $4`,
      [workspaceId, contactId, before, limit],
    );
  }
}
