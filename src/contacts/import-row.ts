import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FieldError } from '../common/problem.js';
import { MAX_TEXT_LENGTH, normaliseEmail, normalisePhone } from '../forms/form-definition.js';
import type { ContactInput } from './contact.types.js';
import { CsvSyntaxError, isBlankRecord, parseCsv, restoreFormula } from './csv.js';
import { identityHash } from './identity-hash.js';

const KNOWN_COLUMNS = ['email', 'phone', 'first_name', 'last_name', 'tags', 'email_consent', 'sms_consent'] as const;
type KnownColumn = (typeof KNOWN_COLUMNS)[number];
const isKnown = (name: string): name is KnownColumn => (KNOWN_COLUMNS as readonly string[]).includes(name);

/** What an import file's columns mean, read from its header row; any other column is a custom attribute. */
export type ImportColumn = { kind: KnownColumn } | { kind: 'attribute'; key: string };

export interface ImportLayout {
  columns: ImportColumn[];
  hasEmail: boolean;
  hasPhone: boolean;
}

export interface RowError {
  row: number;
  field: string;
  message: string;
}

export interface ImportOptions {
  tags: string[];
  defaultCountry: string | null;
}

/** A row that can be imported; the consent flags still have to survive the suppression and unsubscribe checks. */
export interface ImportedRow {
  row: number;
  input: ContactInput;
  hashes: string[];
  emailConsent: boolean;
  smsConsent: boolean;
}

export const MAX_COLUMNS = 200;
export const MAX_TAG_LENGTH = 100;
const MAX_TAGS = 50;
const YES = new Set(['yes', 'y', 'true', '1', 'subscribed', 'opted_in', 'opt-in']);
const NO = new Set(['', 'no', 'n', 'false', '0']);

// "First Name", "first-name" and "FIRST_NAME" all name the first_name column.
const canonical = (header: string): string => header.trim().toLowerCase().replace(/[\s-]+/g, '_');

/** Reads the header row; errors name the column (1-based) that is unusable. */
export function readHeader(cells: readonly string[]): { ok: true; layout: ImportLayout } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (cells.length > MAX_COLUMNS) errors.push({ field: 'header', message: `at most ${MAX_COLUMNS} columns` });
  const seen = new Map<string, number>();
  const columns: ImportColumn[] = cells.map((raw, k) => {
    const name = canonical(raw);
    if (name === '') errors.push({ field: `header.${k + 1}`, message: `column ${k + 1} has no name` });
    else if (raw.trim().length > MAX_TAG_LENGTH) errors.push({ field: `header.${k + 1}`, message: `column name longer than ${MAX_TAG_LENGTH} characters` });
    const first = seen.get(name);
    if (name !== '' && first !== undefined) errors.push({ field: `header.${k + 1}`, message: `"${raw.trim()}" repeats column ${first}` });
    seen.set(name, k + 1);
    return isKnown(name) ? { kind: name } : { kind: 'attribute', key: raw.trim() };
  });
  const hasEmail = columns.some((c) => c.kind === 'email');
  const hasPhone = columns.some((c) => c.kind === 'phone');
  if (!hasEmail && !hasPhone) errors.push({ field: 'header', message: 'the header row needs an email or a phone column' });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, layout: { columns, hasEmail, hasPhone } };
}

/** yes/true/1 → true; empty/no/false/0 → false (leaves the contact's status alone); anything else → null. */
export function consentFlag(raw: string): boolean | null {
  const v = raw.trim().toLowerCase();
  if (YES.has(v)) return true;
  return NO.has(v) ? false : null;
}

/** Tags from the query string: comma-separated and/or repeated, trimmed, empty ones dropped. */
export function splitTags(value: string | string[] | undefined, separator: string): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return [...new Set(list.flatMap((v) => v.split(separator)).map((t) => t.trim()).filter((t) => t !== ''))];
}

/** Checks one data row and turns it into a contact input; each problem names its column. */
export function readRow(
  layout: ImportLayout,
  cells: readonly string[],
  row: number,
  options: ImportOptions,
): { ok: true; value: ImportedRow } | { ok: false; errors: RowError[] } {
  const errors: RowError[] = [];
  const fail = (field: string, message: string) => errors.push({ row, field, message });
  if (cells.length > layout.columns.length) {
    fail('row', `has ${cells.length} cells, the header has ${layout.columns.length}`);
    return { ok: false, errors };
  }
  const input: ContactInput = {
    email: null,
    phone: null,
    firstName: null,
    lastName: null,
    attributes: {},
    tags: [...options.tags],
    touch: null,
    emailConsent: null,
    smsConsent: null,
  };
  let emailConsent = false;
  let smsConsent = false;
  layout.columns.forEach((column, k) => {
    // Missing trailing cells are empty: some tools drop them.
    const value = restoreFormula((cells[k] ?? '').trim());
    const field = column.kind === 'attribute' ? column.key : column.kind;
    if (value.length > MAX_TEXT_LENGTH) return fail(field, `longer than ${MAX_TEXT_LENGTH} characters`);
    switch (column.kind) {
      case 'email':
        if (value === '') return;
        input.email = normaliseEmail(value);
        if (!input.email) fail(field, 'not a valid email address');
        return;
      case 'phone':
        if (value === '') return;
        input.phone = normalisePhone(value, options.defaultCountry ?? undefined);
        if (!input.phone) fail(field, `not a valid phone number (use the international format, e.g. +14155550100${options.defaultCountry ? '' : ', or set defaultCountry'})`);
        return;
      case 'first_name':
        input.firstName = value || null;
        return;
      case 'last_name':
        input.lastName = value || null;
        return;
      case 'tags': {
        const tags = value.split(';').map((t) => t.trim()).filter((t) => t !== '');
        if (tags.some((t) => t.length > MAX_TAG_LENGTH)) return fail(field, `a tag is longer than ${MAX_TAG_LENGTH} characters`);
        input.tags.push(...tags);
        if (new Set(input.tags).size > MAX_TAGS) fail(field, `at most ${MAX_TAGS} tags`);
        return;
      }
      case 'email_consent':
      case 'sms_consent': {
        const flag = consentFlag(value);
        if (flag === null) return fail(field, 'must be yes or no');
        if (column.kind === 'email_consent') emailConsent = flag;
        else smsConsent = flag;
        return;
      }
      case 'attribute':
        // Absent values never erase known ones.
        if (value !== '') input.attributes[column.key] = value;
        return;
    }
  });
  if (errors.length === 0 && !input.email && !input.phone) {
    fail(layout.hasEmail ? 'email' : 'phone', 'an email address or a phone number is required');
  }
  if (emailConsent && !input.email && errors.length === 0) fail('email_consent', 'email consent needs an email address');
  if (smsConsent && !input.phone && errors.length === 0) fail('sms_consent', 'sms consent needs a phone number');
  if (errors.length > 0) return { ok: false, errors };
  const hashes = [input.email, input.phone].filter((v): v is string => v !== null).map(identityHash);
  return { ok: true, value: { row, input, hashes, emailConsent, smsConsent } };
}

export interface InspectedFile {
  layout: ImportLayout;
  totalRows: number;
  // Some row says yes to a consent column: the import then needs a stated consent basis.
  consentMarked: boolean;
}

export type Inspection = { ok: true; value: InspectedFile } | { ok: false; errors: FieldError[] };

// How many records to read between yields, so a 50 MB file does not block other requests.
const YIELD_EVERY = 5_000;

/** The request-time check of a whole file: well-formed CSV, a usable header, at least one row. */
export async function inspectCsv(text: string): Promise<Inspection> {
  const records = parseCsv(text);
  try {
    let header: readonly string[] | null = null;
    let totalRows = 0;
    let consentMarked = false;
    let layout: ImportLayout | null = null;
    let consentColumns: number[] = [];
    for (const record of records) {
      if (isBlankRecord(record.cells)) continue;
      if (!header) {
        header = record.cells;
        const read = readHeader(header);
        if (!read.ok) return read;
        layout = read.layout;
        consentColumns = layout.columns.flatMap((c, k) => (c.kind === 'email_consent' || c.kind === 'sms_consent' ? [k] : []));
        continue;
      }
      totalRows++;
      if (!consentMarked) consentMarked = consentColumns.some((k) => consentFlag(record.cells[k] ?? '') === true);
      if (totalRows % YIELD_EVERY === 0) await yieldToLoop();
    }
    if (!layout) return { ok: false, errors: [{ field: 'body', message: 'the file is empty: send a header row and at least one row' }] };
    if (totalRows === 0) return { ok: false, errors: [{ field: 'body', message: 'the file has a header row but no rows' }] };
    return { ok: true, value: { layout, totalRows, consentMarked } };
  } catch (err) {
    if (err instanceof CsvSyntaxError) return { ok: false, errors: [{ field: `row ${err.row}`, message: err.message }] };
    throw err;
  }
}
