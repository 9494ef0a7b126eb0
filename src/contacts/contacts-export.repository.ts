import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { AppConfig } from '../config/app-config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Times as the API writes them: ISO 8601, UTC, milliseconds.
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// The newest consent record of one channel as a JSON object, or null.
const latestConsent = (channel: 'email' | 'sms') => `(
  SELECT row_to_json(k) FROM (
    SELECT status, source, ${iso('created_at')} AS at, wording
      FROM consents
     WHERE contact_id = c.id AND workspace_id = c.workspace_id AND channel = '${channel}'
     ORDER BY created_at DESC, id DESC
     LIMIT 1) k)`;

// One JSON object per contact (the ExportedContact shape), oldest first. PostgreSQL builds the JSON:
// no row becomes a JavaScript object on the way out.
const contactJson = (workspaceLiteral: string) => `
  SELECT row_to_json(x) FROM (
    SELECT c.id, c.email, c.phone, c.first_name AS "firstName", c.last_name AS "lastName", c.tags, c.attributes,
           c.email_status AS "emailStatus", c.sms_status AS "smsStatus",
           (SELECT row_to_json(s) FROM (SELECT ${latestConsent('email')} AS email, ${latestConsent('sms')} AS sms) s) AS consents,
           c.first_channel AS "firstChannel", c.last_channel AS "lastChannel", c.first_touch AS "firstTouch",
           c.last_touch AS "lastTouch", ${iso('c.created_at')} AS "createdAt", ${iso('c.updated_at')} AS "updatedAt"
      FROM contacts c
     WHERE c.workspace_id = ${workspaceLiteral}
     ORDER BY c.created_at, c.id) x`;

@Injectable()
export class ContactsExportRepository {
  constructor(private readonly config: AppConfig) {}

  /**
   * Every contact of the workspace as NDJSON bytes, streamed by PostgreSQL's COPY TO STDOUT: one
   * statement (one consistent snapshot), paced by the reader (the socket is paused while the client
   * is slow), so memory stays flat whatever the size. A connection of its own, outside the pool: a
   * long download never takes a pooled connection from the API, and one cut short is closed, never
   * handed back mid-COPY.
   */
  async contactLines(workspaceId: string): Promise<Readable> {
    // COPY takes no bind parameters: the id goes in as a literal, and only ever a UUID.
    if (!UUID.test(workspaceId)) throw new Error('contactLines: workspaceId is not a UUID');
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'leadnest-export' });
    await client.connect();
    // CSV mode with delimiter and quote bytes that JSON text never holds raw (it escapes control
    // characters): each value comes out exactly as PostgreSQL wrote it, one per line.
    const sql = `COPY (${contactJson(client.escapeLiteral(workspaceId))}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')`;
    const stream = client.query(copyTo(sql));
    client.on('error', (err) => stream.destroy(err));
    finished(stream, (err) => {
      // Cut short, the server is still sending (or blocked sending): only closing the socket stops it.
      if (err) client.connection.stream.destroy();
      else void client.end().catch(() => undefined);
    });
    return stream;
  }
}
