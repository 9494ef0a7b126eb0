import { ContactsCsvTransform, CSV_HEADER } from '../src/contacts/contacts-export.service.js';
import { csvCell, csvLine, CsvSyntaxError, defuseFormula, isBlankRecord, parseCsv, restoreFormula, UTF8_BOM } from '../src/contacts/csv.js';
import { identityHash } from '../src/contacts/identity-hash.js';
import { consentFlag, inspectCsv, readHeader, readRow, splitTags, type ImportLayout } from '../src/contacts/import-row.js';

const rows = (text: string) => [...parseCsv(text)].map((r) => r.cells);

describe('parseCsv (RFC 4180)', () => {
  it('reads plain records with LF, CRLF or CR line ends, and a final line end or none', () => {
    expect(rows('a,b\n1,2\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(rows('a,b\r\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
    expect(rows('a,b\r1,2\r')).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('skips a UTF-8 BOM', () => {
    expect(rows(`${UTF8_BOM}email\r\nx@example.com\r\n`)).toEqual([['email'], ['x@example.com']]);
  });

  it('reads quoted cells with commas, doubled quotes and line breaks', () => {
    expect(rows('"a,1","say ""hi""","two\r\nlines"\n"",x')).toEqual([
      ['a,1', 'say "hi"', 'two\r\nlines'],
      ['', 'x'],
    ]);
  });

  it('keeps empty cells, including a trailing one', () => {
    expect(rows('a,,c\n,\nx,')).toEqual([['a', '', 'c'], ['', ''], ['x', '']]);
  });

  it('numbers records as a spreadsheet shows rows: header 1, blank lines counted, multi-line cells one row', () => {
    const records = [...parseCsv('h\n"1\n2"\n\nlast\n')];
    expect(records.map((r) => r.row)).toEqual([1, 2, 3, 4]);
    expect(records.map((r) => isBlankRecord(r.cells))).toEqual([false, false, true, false]);
  });

  it('reads lazily: records before a syntax error are yielded first', () => {
    const it = parseCsv('ok\n"never closed\n');
    expect(it.next().value).toEqual({ row: 1, cells: ['ok'] });
    expect(() => it.next()).toThrow(CsvSyntaxError);
  });

  it('names the row of a syntax error', () => {
    const failure = (text: string) => {
      try {
        rows(text);
      } catch (err) {
        return err instanceof CsvSyntaxError ? { row: err.row, message: err.message } : err;
      }
      return null;
    };
    expect(failure('a\nb\n"c')).toEqual({ row: 3, message: 'a quoted cell is never closed' });
    expect(failure('a\n"b"x,c')).toEqual({ row: 2, message: expect.stringContaining('after a closing quote') });
  });

  it('round-trips what csvLine writes', () => {
    const cells = ['plain', 'with,comma', 'with "quotes"', 'multi\nline', '', 'é ü 漢字'];
    expect(rows(csvLine(cells))).toEqual([cells]);
  });
});

describe('CSV writing', () => {
  it('quotes only when needed and ends lines with CRLF', () => {
    expect(csvLine(['a', 'b c', null, undefined, ''])).toBe('a,b c,,,\r\n');
    expect(csvCell('x,y')).toBe('"x,y"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('a\r\nb')).toBe('"a\r\nb"');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    for (const hostile of ['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://evil.example","click")']) {
      expect(defuseFormula(hostile)).toBe(`'${hostile}`);
    }
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvCell('+14155550100')).toBe("'+14155550100");
    for (const safe of ['a=b', 'x+1', "it's", '']) expect(defuseFormula(safe)).toBe(safe);
  });

  it('restoreFormula undoes defuseFormula only', () => {
    for (const v of ['=1+1', '+14155550100', '-2', '@x', 'plain', "'quoted", "it's"]) expect(restoreFormula(defuseFormula(v))).toBe(v);
    expect(restoreFormula("'plain")).toBe("'plain");
  });
});

describe('identityHash', () => {
  it('is sha256 hex of the normalised value', () => {
    expect(identityHash('ada@example.com')).toBe('b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72');
    expect(identityHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('import rows', () => {
  const layoutOf = (header: string[]): ImportLayout => {
    const read = readHeader(header);
    if (!read.ok) throw new Error(JSON.stringify(read.errors));
    return read.layout;
  };
  const options = { tags: ['imported'], defaultCountry: null };

  it('recognises columns in any case and spelling, and keeps the others as attributes', () => {
    expect(layoutOf(['E-mail', 'Email', 'First Name', 'LAST_NAME', 'Plan']).columns).toEqual([
      { kind: 'attribute', key: 'E-mail' },
      { kind: 'email' },
      { kind: 'first_name' },
      { kind: 'last_name' },
      { kind: 'attribute', key: 'Plan' },
    ]);
  });

  it('refuses a header without email or phone, with a nameless or a repeated column', () => {
    expect(readHeader(['name', 'plan'])).toEqual({ ok: false, errors: [{ field: 'header', message: expect.stringContaining('email or a phone') }] });
    expect(readHeader(['email', ''])).toEqual({ ok: false, errors: [{ field: 'header.2', message: 'column 2 has no name' }] });
    expect(readHeader(['email', 'EMAIL'])).toEqual({ ok: false, errors: [{ field: 'header.2', message: expect.stringContaining('repeats column 1') }] });
  });

  it('turns a good row into a contact input', () => {
    const layout = layoutOf(['email', 'phone', 'first_name', 'tags', 'email_consent', 'sms_consent', 'plan']);
    const read = readRow(layout, [' ADA@Example.com ', '+1 415 555 0100', 'Ada', 'vip; spring;', 'yes', 'no', "'=1+1"], 2, options);
    expect(read).toEqual({
      ok: true,
      value: {
        row: 2,
        input: expect.objectContaining({ email: 'ada@example.com', phone: '+14155550100', firstName: 'Ada', lastName: null, tags: ['imported', 'vip', 'spring'], attributes: { plan: '=1+1' } }),
        hashes: [identityHash('ada@example.com'), identityHash('+14155550100')],
        emailConsent: true,
        smsConsent: false,
      },
    });
  });

  it('names the row and field of each problem', () => {
    const layout = layoutOf(['email', 'phone', 'email_consent', 'sms_consent']);
    expect(readRow(layout, ['nope', '', '', ''], 3, options)).toEqual({ ok: false, errors: [{ row: 3, field: 'email', message: 'not a valid email address' }] });
    expect(readRow(layout, ['', '12', '', ''], 4, options)).toEqual({ ok: false, errors: [{ row: 4, field: 'phone', message: expect.stringContaining('not a valid phone number') }] });
    expect(readRow(layout, ['', '', '', ''], 5, options)).toEqual({ ok: false, errors: [{ row: 5, field: 'email', message: expect.stringContaining('required') }] });
    expect(readRow(layout, ['a@example.com', '', 'maybe', ''], 6, options)).toEqual({ ok: false, errors: [{ row: 6, field: 'email_consent', message: 'must be yes or no' }] });
    expect(readRow(layout, ['a@example.com', '', '', 'yes'], 7, options)).toEqual({ ok: false, errors: [{ row: 7, field: 'sms_consent', message: 'sms consent needs a phone number' }] });
    expect(readRow(layout, ['a@example.com', '', '', '', 'extra'], 8, options)).toEqual({ ok: false, errors: [{ row: 8, field: 'row', message: 'has 5 cells, the header has 4' }] });
    // Missing trailing cells are empty.
    expect(readRow(layout, ['a@example.com'], 9, options).ok).toBe(true);
  });

  it('uses the default country for national phone numbers', () => {
    const layout = layoutOf(['phone']);
    const read = readRow(layout, ['(415) 555-0100'], 2, { tags: [], defaultCountry: 'US' });
    expect(read.ok && read.value.input.phone).toBe('+14155550100');
  });

  it('reads consent flags and tag lists', () => {
    expect(['yes', 'TRUE', '1', 'y'].map(consentFlag)).toEqual([true, true, true, true]);
    expect(['', 'no', 'False', '0'].map(consentFlag)).toEqual([false, false, false, false]);
    expect(consentFlag('perhaps')).toBeNull();
    expect(splitTags(['a, b', 'b', ' '], ',')).toEqual(['a', 'b']);
    expect(splitTags(undefined, ',')).toEqual([]);
  });
});

describe('inspectCsv', () => {
  it('counts data rows (not blank lines) and sees consent marked yes', async () => {
    expect(await inspectCsv('\r\nemail,email_consent\r\na@x.io,no\r\n\r\nb@x.io,yes\r\n')).toEqual({
      ok: true,
      value: expect.objectContaining({ totalRows: 2, consentMarked: true }),
    });
    expect(await inspectCsv('email,email_consent\na@x.io,no\n')).toEqual({ ok: true, value: expect.objectContaining({ totalRows: 1, consentMarked: false }) });
  });

  it('refuses an empty file, a header alone, a bad header and malformed CSV', async () => {
    expect(await inspectCsv('')).toEqual({ ok: false, errors: [{ field: 'body', message: expect.stringContaining('empty') }] });
    expect(await inspectCsv('email\r\n')).toEqual({ ok: false, errors: [{ field: 'body', message: expect.stringContaining('no rows') }] });
    expect(await inspectCsv('name\nAda\n')).toEqual({ ok: false, errors: [expect.objectContaining({ field: 'header' })] });
    expect(await inspectCsv('email\n"a@x.io\n')).toEqual({ ok: false, errors: [{ field: 'row 2', message: 'a quoted cell is never closed' }] });
  });
});

describe('ContactsCsvTransform', () => {
  const contact = (email: string, firstName: string) => ({
    id: 'c1',
    email,
    phone: '+14155550100',
    firstName,
    lastName: null,
    tags: ['a', 'b'],
    attributes: { plan: 'gold' },
    emailStatus: 'subscribed',
    smsStatus: 'none',
    consents: { email: { status: 'granted', source: 'import', at: '2024-01-01T00:00:00.000Z', wording: 'Basis' }, sms: null },
    firstChannel: 'instagram',
    lastChannel: null,
    firstTouch: { channel: 'instagram', utm_source: 'ig', at: '2024-01-01T00:00:00.000Z' },
    lastTouch: null,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-02T00:00:00.000Z',
  });

  it('turns NDJSON lines into CSV records, across chunk boundaries, header first', async () => {
    const t = new ContactsCsvTransform();
    const lines = `${JSON.stringify(contact('a@x.io', '=cmd|x'))}\n${JSON.stringify(contact('b@x.io', 'Zoë "Z"'))}\n`;
    const out: string[] = [];
    t.on('data', (d: string) => out.push(d));
    const ended = new Promise((r) => t.on('end', r));
    t.write(lines.slice(0, 37));
    t.write(lines.slice(37));
    t.end();
    await ended;
    const records = [...parseCsv(out.join(''))].map((r) => r.cells);
    expect(out.join('').startsWith(UTF8_BOM)).toBe(true);
    expect(records[0]).toEqual(CSV_HEADER);
    const row = (k: number) => Object.fromEntries(CSV_HEADER.map((h, i) => [h, records[k][i]]));
    expect(records).toHaveLength(3);
    expect(row(1)).toMatchObject({ email: 'a@x.io', first_name: "'=cmd|x", phone: "'+14155550100", tags: 'a;b', attributes: '{"plan":"gold"}', email_consent_wording: 'Basis', sms_consent_status: '', first_touch_utm_source: 'ig', last_touch_at: '' });
    expect(row(2)).toMatchObject({ email: 'b@x.io', first_name: 'Zoë "Z"' });
  });

  it('fails on a cut-off last line', async () => {
    const t = new ContactsCsvTransform();
    t.resume();
    const failed = new Promise((resolve) => t.on('error', resolve));
    t.end('{"id":');
    expect(await failed).toBeInstanceOf(Error);
  });
});
