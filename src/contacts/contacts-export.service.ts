import { Injectable, StreamableFile } from '@nestjs/common';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { WorkspaceContext } from '../common/auth-context.js';
import type { Touch } from '../tracking/attribution.js';
import { ContactsExportRepository } from './contacts-export.repository.js';
import type { ExportFormat } from './contacts-transfer.dto.js';
import { csvLine, UTF8_BOM } from './csv.js';

const TOUCH_FIELDS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'referrer', 'url', 'fbclid', 'gclid', 'ttclid', 'at'] as const;
const CONSENT_FIELDS = ['status', 'source', 'at', 'wording'] as const;

export const CSV_HEADER: readonly string[] = [
  'id',
  'email',
  'phone',
  'first_name',
  'last_name',
  'tags',
  'attributes',
  'email_status',
  'sms_status',
  ...CONSENT_FIELDS.map((f) => `email_consent_${f}`),
  ...CONSENT_FIELDS.map((f) => `sms_consent_${f}`),
  'first_channel',
  ...TOUCH_FIELDS.map((f) => `first_touch_${f}`),
  'last_channel',
  ...TOUCH_FIELDS.map((f) => `last_touch_${f}`),
  'created_at',
  'updated_at',
];

/** One exported contact as an NDJSON line carries it (PostgreSQL writes it: contacts-export.repository.ts). */
export interface ExportedContact {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  tags: string[];
  attributes: Record<string, unknown>;
  emailStatus: string;
  smsStatus: string;
  consents: { email: ExportedConsent | null; sms: ExportedConsent | null };
  firstChannel: string | null;
  lastChannel: string | null;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
  createdAt: string;
  updatedAt: string;
}

export interface ExportedConsent {
  status: string;
  source: string;
  at: string;
  wording: string | null;
}

const touchCells = (t: Touch | null): (string | null)[] => TOUCH_FIELDS.map((f) => (t?.[f] === undefined || t[f] === null ? null : String(t[f])));
const consentCells = (c: ExportedConsent | null): (string | null)[] => (c ? [c.status, c.source, c.at, c.wording] : [null, null, null, null]);

/** One contact as a CSV record, in CSV_HEADER order; tags joined with ";" as import reads them. */
export function toCsvCells(r: ExportedContact): (string | null)[] {
  return [
    r.id,
    r.email,
    r.phone,
    r.firstName,
    r.lastName,
    r.tags.join(';'),
    Object.keys(r.attributes).length > 0 ? JSON.stringify(r.attributes) : null,
    r.emailStatus,
    r.smsStatus,
    ...consentCells(r.consents.email),
    ...consentCells(r.consents.sms),
    r.firstChannel,
    ...touchCells(r.firstTouch),
    r.lastChannel,
    ...touchCells(r.lastTouch),
    r.createdAt,
    r.updatedAt,
  ];
}

/**
 * NDJSON contacts in, CSV out (header first). Text in and text out: see ContactsExportService.export.
 */
export class ContactsCsvTransform extends Transform {
  private rest = '';

  constructor() {
    super({ decodeStrings: false, encoding: 'utf8' });
    this.push(UTF8_BOM + csvLine(CSV_HEADER));
  }

  override _transform(chunk: string, _encoding: BufferEncoding, done: TransformCallback): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    let out = '';
    try {
      for (const line of lines) out += csvLine(toCsvCells(JSON.parse(line) as ExportedContact));
    } catch (err) {
      return done(err as Error);
    }
    done(null, out === '' ? undefined : out);
  }

  override _flush(done: TransformCallback): void {
    done(this.rest !== '' ? new Error('export stream ended inside a line') : null);
  }
}

/**
 * All of a workspace's contacts, streamed from PostgreSQL to the client as the client reads: memory
 * stays flat whatever the size (owning your list means getting all of it out, at any time).
 */
@Injectable()
export class ContactsExportService {
  constructor(private readonly exports: ContactsExportRepository) {}

  async export(ws: WorkspaceContext, format: ExportFormat): Promise<StreamableFile> {
    const lines = await this.exports.contactLines(ws.id);
    // Strings all the way to the socket: its write copies a string and frees the copy once sent,
    // and the JS-heap churn keeps minor GCs frequent. As Buffers, the same bytes would wait for a GC
    // to be freed, and the C heap would grow by tens of MB during a large export.
    lines.setEncoding('utf8');
    // pipeline: the client going away (Nest destroys the body) stops the query too.
    const body = format === 'ndjson' ? lines : pipeline(lines, new ContactsCsvTransform(), () => undefined);
    const stamp = new Date().toISOString().slice(0, 10);
    return new StreamableFile(body, {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="contacts-${stamp}.${format}"`,
    });
  }
}
