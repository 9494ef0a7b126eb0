import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface StoredSubmission {
  id: string;
  status: number;
  requestHash: string | null;
}

export interface NewSubmission {
  workspaceId: string;
  formId: string;
  formVersion: number;
  contactId: string;
  values: Record<string, unknown>;
  context: Record<string, unknown>;
  channel: string;
  ip: string | null;
  userAgent: string | null;
  status: number;
  idempotencyKey: string | null;
  requestHash: string | null;
}

@Injectable()
export class SubmissionsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async findByIdempotencyKey(formId: string, key: string): Promise<StoredSubmission | null> {
    const rows = await this.ds.query<StoredSubmission[]>(
      `SELECT id, status, request_hash AS "requestHash" FROM submissions WHERE form_id = $1 AND idempotency_key = $2`,
      [formId, key],
    );
    return rows[0] ?? null;
  }

  /** Inserts the submission; null when a concurrent request with the same Idempotency-Key got there first. */
  async insert(em: EntityManager, s: NewSubmission): Promise<string | null> {
    const rows = await em.query<{ id: string }[]>(
      `INSERT INTO submissions (workspace_id, form_id, form_version, contact_id, "values", context, channel, ip, user_agent,
                                status, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (form_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [s.workspaceId, s.formId, s.formVersion, s.contactId, JSON.stringify(s.values), JSON.stringify(s.context), s.channel, s.ip, s.userAgent, s.status, s.idempotencyKey, s.requestHash],
    );
    return rows[0]?.id ?? null;
  }

  /** What the confirmation job needs, whatever the workspace: it carries only the submission id. */
  async findForConfirmation(submissionId: string): Promise<{
    workspaceId: string;
    contactId: string | null;
    formId: string;
    email: string | null;
    firstName: string | null;
    title: string;
    alreadyConfirmed: boolean;
  } | null> {
    const rows = await this.ds.query(
      `SELECT s.workspace_id AS "workspaceId", s.contact_id AS "contactId", s.form_id AS "formId",
              c.email, c.first_name AS "firstName", f.definition->>'title' AS title,
              EXISTS (SELECT 1 FROM confirmation_tokens t WHERE t.submission_id = s.id AND t.confirmed_at IS NOT NULL) AS "alreadyConfirmed"
         FROM submissions s
         JOIN forms f ON f.id = s.form_id
         LEFT JOIN contacts c ON c.id = s.contact_id
        WHERE s.id = $1`,
      [submissionId],
    );
    return rows[0] ?? null;
  }
}
