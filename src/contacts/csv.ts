/**
 * RFC 4180 CSV. Reading is lazy (one record at a time, so a large file is never turned into one big
 * array) and accepts a UTF-8 BOM and CRLF, LF or CR line ends. Writing quotes only when needed, ends
 * lines with CRLF and defuses cells a spreadsheet would run as a formula.
 */

export interface CsvRecord {
  // 1-based record number: the header is row 1, as a spreadsheet shows it (blank lines count).
  row: number;
  cells: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/** Records of `text`, lazily. Throws CsvSyntaxError on an unclosed quote or text after a closing quote. */
export function* parseCsv(text: string): Generator<CsvRecord, void, undefined> {
  const n = text.length;
  let i = text.charCodeAt(0) === BOM ? 1 : 0;
  let row = 0;
  while (i < n) {
    row++;
    const cells: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        let cell = '';
        let start = i + 1;
        for (;;) {
          const q = text.indexOf('"', start);
          if (q === -1) throw new CsvSyntaxError(row, 'a quoted cell is never closed');
          if (text.charCodeAt(q + 1) === QUOTE) {
            cell += text.slice(start, q + 1);
            start = q + 2;
            continue;
          }
          cell += text.slice(start, q);
          i = q + 1;
          break;
        }
        const next = text.charCodeAt(i);
        if (i < n && next !== COMMA && next !== LF && next !== CR) throw new CsvSyntaxError(row, 'text after a closing quote (quotes inside a cell are written "")');
        cells.push(cell);
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
          j++;
        }
        cells.push(text.slice(i, j));
        i = j;
      }
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        if (i < n) continue;
        // "a,b," at the very end: the last cell is empty.
        cells.push('');
        break;
      }
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      break;
    }
    yield { row, cells };
  }
}

export function isBlankRecord(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0].trim() === '';
}

// Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell a spreadsheet shows as text: a leading apostrophe before = + - @ tab or CR. */
export function defuseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** Undoes defuseFormula, so a file exported here imports back with the same values. */
export function restoreFormula(value: string): string {
  return value.length > 1 && value.charCodeAt(0) === 0x27 && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One cell, formula-safe, quoted when it holds a quote, comma or line break. */
export function csvCell(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const safe = defuseFormula(value);
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One record, CRLF-terminated as RFC 4180 says. */
export function csvLine(cells: readonly (string | null | undefined)[]): string {
  let line = '';
  for (let k = 0; k < cells.length; k++) line += (k === 0 ? '' : ',') + csvCell(cells[k]);
  return `${line}\r\n`;
}

// Written first in exports so that Excel reads the file as UTF-8; parseCsv skips it.
export const UTF8_BOM = '\ufeff';
