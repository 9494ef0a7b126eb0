import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination.js';
import type { SubscriptionStatus } from './contact.types.js';
import type { ImportRow } from './contacts-transfer.dto.js';
import type { RowError } from './import-row.js';

const IMPORT_COLUMNS = `id, status, total_rows AS "totalRows", processed_rows AS "processedRows",
  created_contacts AS "createdContacts", updated_contacts AS "updatedContacts", failed_rows AS "failedRows",
  error_count AS "errorCount", consent_basis AS "consentBasis", tags, default_country AS "defaultCountry", failure,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

export interface NewImport {
  workspaceId: string;
  csv: string;
  consentBasis: string | null;
  tags: string[];
  defaultCountry: string | null;
  totalRows: number;
  createdBy: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/** What a run of the import job needs: the file and where the previous run stopped. */
export interface ImportRun {
  id: string;
  workspaceId: string;
  csv: string;
  consentBasis: string | null;
  tags: string[];
  defaultCountry: string | null;
  processedRows: number;
}

export interface ImportProgress {
  status: ImportRow['status'];
  processedRows: number;
  storedErrors: number;
}

export interface BatchCounts {
  processed: number;
  created: number;
  updated: number;
  failed: number;
  errorCount: number;
  // Already cut to what still fits in the stored list.
  errors: RowError[];
}

export interface KnownContact {
  email: string | null;
  phone: string | null;
  emailStatus: SubscriptionStatus;
  smsStatus: SubscriptionStatus;
}

@Injectable()
export class ContactsImportRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async insert(em: EntityManager, i: NewImport): Promise<ImportRow> {
    const rows = await em.query<ImportRow[]>(
      `INSERT INTO import_jobs (workspace_id, csv, consent_basis, tags, default_country, total_rows, created_by, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       RETURNING ${IMPORT_COLUMNS}`,
      [i.workspaceId, i.csv, i.consentBasis, i.tags, i.defaultCountry, i.totalRows, i.createdBy, i.idempotencyKey, i.requestHash],
    );
    return rows[0];
  }

  async findByIdempotencyKey(workspaceId: string, key: string): Promise<(ImportRow & { requestHash: string | null }) | null> {
    const rows = await this.ds.query<(ImportRow & { requestHash: string | null })[]>(
      `SELECT ${IMPORT_COLUMNS}, request_hash AS "requestHash" FROM import_jobs WHERE workspace_id = $1 AND idempotency_key = $2`,
      [workspaceId, key],
    );
    return rows[0] ?? null;
  }

  /** The import with its stored row errors; never the file itself. */
  async findById(workspaceId: string, id: string): Promise<(ImportRow & { errors: RowError[] }) | null> {
    const rows = await this.ds.query<(ImportRow & { errors: RowError[] })[]>(
      `SELECT ${IMPORT_COLUMNS}, errors FROM import_jobs WHERE workspace_id = $1 AND id = $2`,
      [workspaceId, id],
    );
    return rows[0] ?? null;
  }

  list(workspaceId: string, limit: number, after: Keyset | null): Promise<ImportRow[]> {
    return this.ds.query<ImportRow[]>(
      `SELECT ${IMPORT_COLUMNS} FROM import_jobs
        WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $4`,
      [workspaceId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
  }

  // ---- the job's side: it knows only the import id (the row holds the workspace)

  /** Marks the import running and returns the file; null when it is finished or gone. */
  async startRun(id: string): Promise<ImportRun | null> {
    // UPDATE … RETURNING answers [rows, count].
    const [rows] = await this.ds.query<[ImportRun[], number]>(
      `UPDATE import_jobs SET status = 'running', started_at = COALESCE(started_at, now())
        WHERE id = $1 AND status IN ('queued', 'running')
        RETURNING id, workspace_id AS "workspaceId", csv, consent_basis AS "consentBasis", tags,
                  default_country AS "defaultCountry", processed_rows AS "processedRows"`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Locks the import row for one batch: a concurrent run of the same job waits here, then sees it moved on. */
  async lockProgress(em: EntityManager, id: string): Promise<ImportProgress | null> {
    const rows = await em.query<ImportProgress[]>(
      `SELECT status, processed_rows AS "processedRows", jsonb_array_length(errors) AS "storedErrors"
         FROM import_jobs WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ?? null;
  }

  async recordBatch(em: EntityManager, id: string, c: BatchCounts): Promise<void> {
    await em.query(
      `UPDATE import_jobs SET processed_rows = processed_rows + $2, created_contacts = created_contacts + $3,
              updated_contacts = updated_contacts + $4, failed_rows = failed_rows + $5, error_count = error_count + $6,
              errors = errors || $7::jsonb
        WHERE id = $1`,
      [id, c.processed, c.created, c.updated, c.failed, c.errorCount, JSON.stringify(c.errors)],
    );
  }

  /** Finished: the file (personal data) is dropped, the counts stay. */
  async complete(id: string): Promise<void> {
    await this.ds.query(
      `UPDATE import_jobs SET status = 'completed', finished_at = now(), csv = '', failure = NULL
        WHERE id = $1 AND status = 'running' AND processed_rows = total_rows`,
      [id],
    );
  }

  /** Counts a failed run; the last allowed one marks the import failed. Returns true when it is final. */
  async recordFailedRun(id: string, maxRuns: number, failure: string): Promise<boolean> {
    const [rows] = await this.ds.query<[{ status: ImportRow['status'] }[], number]>(
      `UPDATE import_jobs SET attempts = attempts + 1,
              status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE status END,
              finished_at = CASE WHEN attempts + 1 >= $2 THEN now() ELSE finished_at END,
              csv = CASE WHEN attempts + 1 >= $2 THEN '' ELSE csv END,
              failure = $3
        WHERE id = $1 AND status IN ('queued', 'running')
        RETURNING status`,
      [id, maxRuns, failure],
    );
    return rows.length === 0 || rows[0].status === 'failed';
  }

  async suppressedHashes(em: EntityManager, workspaceId: string, hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = await em.query<{ h: string }[]>(
      `SELECT identity_hash AS h FROM suppressions WHERE workspace_id = $1 AND identity_hash = ANY($2::text[])`,
      [workspaceId, hashes],
    );
    return new Set(rows.map((r) => r.h));
  }

  /** Existing contacts a batch may merge into, for the rule that an import never re-subscribes an unsubscribe. */
  findKnown(em: EntityManager, workspaceId: string, emails: string[], phones: string[]): Promise<KnownContact[]> {
    if (emails.length === 0 && phones.length === 0) return Promise.resolve([]);
    return em.query<KnownContact[]>(
      `SELECT email, phone, email_status AS "emailStatus", sms_status AS "smsStatus" FROM contacts
        WHERE workspace_id = $1 AND (email = ANY($2::text[]) OR phone = ANY($3::text[]))`,
      [workspaceId, emails, phones],
    );
  }
}
