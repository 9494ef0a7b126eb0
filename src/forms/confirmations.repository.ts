import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface ConfirmationRow {
  workspaceId: string;
  contactId: string;
  submissionId: string | null;
  expiresAt: Date;
  confirmedAt: Date | null;
  formId: string | null;
  formVersion: number | null;
}

@Injectable()
export class ConfirmationsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insert(row: { tokenHash: string; workspaceId: string; contactId: string; submissionId: string; expiresAt: Date }): Promise<void> {
    await this.ds.query(
      `INSERT INTO confirmation_tokens (token_hash, workspace_id, contact_id, submission_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [row.tokenHash, row.workspaceId, row.contactId, row.submissionId, row.expiresAt],
    );
  }

  async findForUpdate(em: EntityManager, tokenHash: string): Promise<ConfirmationRow | null> {
    const rows = await em.query<ConfirmationRow[]>(
      `SELECT t.workspace_id AS "workspaceId", t.contact_id AS "contactId", t.submission_id AS "submissionId",
              t.expires_at AS "expiresAt", t.confirmed_at AS "confirmedAt", s.form_id AS "formId", s.form_version AS "formVersion"
         FROM confirmation_tokens t LEFT JOIN submissions s ON s.id = t.submission_id
        WHERE t.token_hash = $1 FOR UPDATE OF t`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Marks the token used and the contact's email subscribed. */
  async confirm(em: EntityManager, tokenHash: string, row: ConfirmationRow): Promise<void> {
    await em.query(`UPDATE confirmation_tokens SET confirmed_at = now() WHERE token_hash = $1`, [tokenHash]);
    await em.query(`UPDATE contacts SET email_status = 'subscribed', updated_at = now() WHERE workspace_id = $1 AND id = $2`, [
      row.workspaceId,
      row.contactId,
    ]);
  }
}
