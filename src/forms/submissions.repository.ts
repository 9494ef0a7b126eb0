import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { prepared, runPrepared } from '../database/prepared.js';
import { recordSubmissionQuery, type NewSubmission, type RecordedSubmission } from './submission.statement.js';

export interface StoredSubmission {
  id: string;
  status: number;
  requestHash: string | null;
}

const FIND_BY_IDEMPOTENCY_KEY = prepared(
  'submission_by_idempotency_key',
  `SELECT id, status, request_hash AS "requestHash" FROM submissions WHERE form_id = $1 AND idempotency_key = $2`,
);

@Injectable()
export class SubmissionsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async findByIdempotencyKey(formId: string, key: string): Promise<StoredSubmission | null> {
    const rows = await runPrepared<StoredSubmission>(this.ds, FIND_BY_IDEMPOTENCY_KEY, [formId, key]);
    return rows[0] ?? null;
  }

  /** The submission statement (submission.statement.ts): on its own (autocommit) with the DataSource, or in the caller's transaction. */
  async record(target: DataSource | EntityManager, s: NewSubmission): Promise<RecordedSubmission> {
    const { statement, values } = recordSubmissionQuery(s);
    const [row] = await runPrepared<RecordedSubmission>(target, statement, values);
    if (!row) throw new Error('the submission statement returned no row');
    return row;
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
