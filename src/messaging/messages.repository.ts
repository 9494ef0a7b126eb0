import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface NewMessage {
  workspaceId: string;
  contactId: string | null;
  channel: 'email' | 'sms';
  kind: string;
  dedupeKey: string;
  recipient: string;
  subject: string | null;
  body: string;
}

@Injectable()
export class MessagesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Records the message before it is sent. Returns its id, or null when this dedupe key was already
   * sent (or suppressed): the caller must not send again.
   */
  async claim(m: NewMessage): Promise<string | null> {
    const rows = await this.ds.query<{ id: string; status: string }[]>(
      `INSERT INTO messages (workspace_id, contact_id, channel, kind, dedupe_key, recipient, subject, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (workspace_id, dedupe_key) DO UPDATE SET error = messages.error
       RETURNING id, status`,
      [m.workspaceId, m.contactId, m.channel, m.kind, m.dedupeKey, m.recipient, m.subject, m.body],
    );
    const row = rows[0];
    return row.status === 'sent' || row.status === 'suppressed' ? null : row.id;
  }

  async markSent(id: string, provider: string, providerMessageId: string | null): Promise<void> {
    await this.ds.query(
      `UPDATE messages SET status = 'sent', provider = $2, provider_message_id = $3, error = NULL, sent_at = now() WHERE id = $1`,
      [id, provider, providerMessageId],
    );
  }

  async markFailed(id: string, provider: string, error: string): Promise<void> {
    await this.ds.query(`UPDATE messages SET status = 'failed', provider = $2, error = $3 WHERE id = $1`, [id, provider, error.slice(0, 1000)]);
  }
}
