import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { WorkspaceContext } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { idempotencyKey } from '../common/idempotency.js';
import { ValidationException } from '../common/problem.js';
import { PG_ERROR, pgErrorCode } from '../database/pg-errors.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { JobsService } from '../jobs/jobs.service.js';
import { QUEUES } from '../jobs/queues.js';
import { ContactsImportRepository, type ImportRun, type KnownContact } from './contacts-import.repository.js';
import {
  CsvUpload,
  toImportResponse,
  toImportSummaryResponse,
  type ImportQueryDto,
  type ImportResponse,
  type ImportSummaryResponse,
} from './contacts-transfer.dto.js';
import { TransferException } from './contacts-transfer.exception.js';
import { ContactsWriteRepository, type ConsentRecord } from './contacts-write.repository.js';
import { isBlankRecord, parseCsv, type CsvRecord } from './csv.js';
import { inspectCsv, readHeader, readRow, type ImportedRow, type ImportLayout, type RowError } from './import-row.js';

// Rows per transaction: progress is committed with each batch, and a retry resumes after the last one.
const BATCH_SIZE = 500;
export const MAX_STORED_ERRORS = 1000;
// pg-boss runs a job once plus retryLimit retries; the last failed run marks the import failed.
const MAX_RUNS = QUEUES['contacts-import'].retryLimit + 1;

export interface ImportRequest {
  body: unknown;
  query: ImportQueryDto;
  actorUserId: string | null;
  idempotencyKey: string | null;
}

/**
 * CSV import: the request checks the whole file and commits the import row with its job in one
 * transaction; the job then writes contacts in batches, deduped and merged like submissions, with
 * per-row errors. Erased (suppressed) people are not re-imported; an unsubscribe is never undone.
 */
@Injectable()
export class ContactsImportService {
  private readonly logger = new Logger('ContactsImport');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly imports: ContactsImportRepository,
    private readonly contacts: ContactsWriteRepository,
    private readonly jobs: JobsService,
  ) {}

  async start(ws: WorkspaceContext, req: ImportRequest): Promise<ImportResponse> {
    if (!(req.body instanceof CsvUpload)) throw TransferException.notCsv();
    const { text } = req.body;
    const key = idempotencyKey(req.idempotencyKey);
    const q = req.query;
    const requestHash = key ? hashRequest(text, q) : null;
    if (key) {
      const earlier = await this.imports.findByIdempotencyKey(ws.id, key);
      if (earlier) return this.replay(earlier, requestHash);
    }
    const inspected = await inspectCsv(text);
    if (!inspected.ok) throw new ValidationException(inspected.errors, 'The file cannot be imported.');
    if (inspected.value.consentMarked && !q.consentBasis) {
      throw new ValidationException([{ field: 'consentBasis', message: 'required: the file has consent columns marked yes; say how these people opted in' }]);
    }
    try {
      const created = await this.ds.transaction(async (em) => {
        const row = await this.imports.insert(em, {
          workspaceId: ws.id,
          csv: text,
          consentBasis: q.consentBasis ?? null,
          tags: q.tags ?? [],
          defaultCountry: q.defaultCountry ?? null,
          totalRows: inspected.value.totalRows,
          createdBy: req.actorUserId,
          idempotencyKey: key,
          requestHash,
        });
        await this.jobs.send('contacts-import', { importId: row.id }, { manager: em });
        return row;
      });
      return toImportResponse(created, []);
    } catch (err) {
      // The same key sent twice at once: the first one's import is the answer.
      const earlier = key && pgErrorCode(err) === PG_ERROR.uniqueViolation ? await this.imports.findByIdempotencyKey(ws.id, key) : null;
      if (!earlier) throw err;
      return this.replay(earlier, requestHash);
    }
  }

  async get(ws: WorkspaceContext, id: string): Promise<ImportResponse> {
    const row = await this.imports.findById(ws.id, id);
    if (!row) throw TransferException.notFound();
    return toImportResponse(row, row.errors);
  }

  async list(ws: WorkspaceContext, limit: number, cursor?: string): Promise<Page<ImportSummaryResponse>> {
    const rows = await this.imports.list(ws.id, limit + 1, decodeCursor(cursor));
    return toPage(rows, limit, toImportSummaryResponse);
  }

  /** The job. Safe to run again, even concurrently: each batch moves processed_rows under a row lock. */
  @OnJob('contacts-import')
  async process(payload: { importId: string }): Promise<void> {
    try {
      await this.run(payload.importId);
    } catch (err) {
      const final = await this.imports.recordFailedRun(payload.importId, MAX_RUNS, 'The import stopped on an unexpected error.').catch(() => false);
      this.logger.error({ err, importId: payload.importId }, final ? 'import failed' : 'import run failed, it will be retried');
      if (!final) throw err;
    }
  }

  private async run(importId: string): Promise<void> {
    const job = await this.imports.startRun(importId);
    if (!job) return;
    const records = parseCsv(job.csv);
    const layout = readLayout(records);
    let position = job.processedRows;
    let seen = 0;
    let batch: CsvRecord[] = [];
    for (const record of records) {
      if (isBlankRecord(record.cells)) continue;
      // Rows an earlier run committed.
      if (seen++ < position) continue;
      batch.push(record);
      if (batch.length < BATCH_SIZE) continue;
      if (!(await this.applyBatch(job, layout, batch, position))) return;
      position += batch.length;
      batch = [];
    }
    if (batch.length > 0 && !(await this.applyBatch(job, layout, batch, position))) return;
    await this.imports.complete(importId);
  }

  /** One transaction: contacts, consents and progress commit together. False: another run got here first. */
  private applyBatch(job: ImportRun, layout: ImportLayout, batch: CsvRecord[], position: number): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      const progress = await this.imports.lockProgress(em, job.id);
      if (!progress || progress.status !== 'running' || progress.processedRows !== position) return false;
      const options = { tags: job.tags, defaultCountry: job.defaultCountry };
      const errors: RowError[] = [];
      const good: ImportedRow[] = [];
      for (const record of batch) {
        const read = readRow(layout, record.cells, record.row, options);
        if (read.ok) good.push(read.value);
        else errors.push(...read.errors);
      }
      let failed = batch.length - good.length;
      const suppressed = await this.imports.suppressedHashes(em, job.workspaceId, good.flatMap((r) => r.hashes));
      const known = indexKnown(
        await this.imports.findKnown(
          em,
          job.workspaceId,
          good.flatMap((r) => (r.input.email ? [r.input.email] : [])),
          good.flatMap((r) => (r.input.phone ? [r.input.phone] : [])),
        ),
      );
      let created = 0;
      let updated = 0;
      const consents: ConsentRecord[] = [];
      for (const r of good) {
        if (r.hashes.some((h) => suppressed.has(h))) {
          failed++;
          errors.push({ row: r.row, field: r.input.email ? 'email' : 'phone', message: 'this person was erased from this workspace and is not imported again' });
          continue;
        }
        const target = (r.input.email ? known.byEmail.get(r.input.email) : undefined) ?? (r.input.phone ? known.byPhone.get(r.input.phone) : undefined);
        const email = r.emailConsent && target?.emailStatus === 'unsubscribed' ? unsubscribed(r, 'email', errors) : r.emailConsent;
        const sms = r.smsConsent && target?.smsStatus === 'unsubscribed' ? unsubscribed(r, 'sms', errors) : r.smsConsent;
        const result = await this.contacts
          .upsert(em, job.workspaceId, { ...r.input, emailConsent: email ? 'subscribed' : null, smsConsent: sms ? 'subscribed' : null })
          .catch((err: unknown) => {
            // The row's email and phone belong to two different contacts: reported, not merged.
            const constraint = pgErrorCode(err) === PG_ERROR.uniqueViolation ? (err as { constraint?: string }).constraint : undefined;
            if (!constraint) throw err;
            return constraint.includes('phone') ? 'phone' : 'email';
          });
        if (typeof result === 'string') {
          failed++;
          errors.push({ row: r.row, field: result, message: `this ${result === 'phone' ? 'phone number' : 'email address'} belongs to another contact` });
          continue;
        }
        if (result.created) created++;
        else updated++;
        const base = { contactId: result.id, status: 'granted', source: 'import', wording: job.consentBasis } as const;
        if (email) consents.push({ ...base, channel: 'email' });
        if (sms) consents.push({ ...base, channel: 'sms' });
      }
      await this.contacts.insertConsents(em, job.workspaceId, consents);
      // Stable: a row's own errors keep their column order.
      errors.sort((x, y) => x.row - y.row);
      await this.imports.recordBatch(em, job.id, {
        processed: batch.length,
        created,
        updated,
        failed,
        errorCount: errors.length,
        errors: errors.slice(0, Math.max(0, MAX_STORED_ERRORS - progress.storedErrors)),
      });
      return true;
    });
  }

  private replay(earlier: Parameters<typeof toImportResponse>[0] & { requestHash: string | null }, requestHash: string | null): ImportResponse {
    if (earlier.requestHash !== requestHash) throw TransferException.idempotencyKeyReused();
    return toImportResponse(earlier, []);
  }
}

function readLayout(records: Iterator<CsvRecord>): ImportLayout {
  for (let next = records.next(); !next.done; next = records.next()) {
    if (isBlankRecord(next.value.cells)) continue;
    const header = readHeader(next.value.cells);
    // The request checked this very file: a bad header here is a bug, and fails the run.
    if (!header.ok) throw new Error('import file header no longer readable');
    return header.layout;
  }
  throw new Error('import file has no header');
}

function indexKnown(rows: KnownContact[]): { byEmail: Map<string, KnownContact>; byPhone: Map<string, KnownContact> } {
  const byEmail = new Map<string, KnownContact>();
  const byPhone = new Map<string, KnownContact>();
  for (const r of rows) {
    if (r.email) byEmail.set(r.email, r);
    if (r.phone) byPhone.set(r.phone, r);
  }
  return { byEmail, byPhone };
}

/** An import never re-subscribes someone who unsubscribed: the contact is merged, the consent is not. */
function unsubscribed(r: ImportedRow, channel: 'email' | 'sms', errors: RowError[]): false {
  errors.push({ row: r.row, field: `${channel}_consent`, message: `not applied: this contact unsubscribed from ${channel}` });
  return false;
}

function hashRequest(text: string, q: ImportQueryDto): string {
  return createHash('sha256')
    .update(JSON.stringify([q.consentBasis ?? null, q.tags ?? [], q.defaultCountry ?? null]))
    .update(text)
    .digest('base64url');
}
