import { ValidationException, type FieldError } from '../common/problem.js';

// A report without dates covers the last 30 days, today included.
export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 366;
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Calendar days `from` to `to`, both included, in the IANA zone `tz`. */
export interface ReportRange {
  from: string;
  to: string;
  tz: string;
}

/** `date` (YYYY-MM-DD) moved by `n` days. */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** True for a date that exists: 2025-02-30 does not. */
export function isCalendarDate(value: string): boolean {
  return DATE_PATTERN.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && addDays(value, 0) === value;
}

/** The date it is at `now` in `tz`. */
export function todayIn(tz: string, now: Date): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Every date of the range, in order. */
export function datesOf(range: ReportRange): string[] {
  const dates: string[] = [];
  for (let d = range.from; d <= range.to; d = addDays(d, 1)) dates.push(d);
  return dates;
}

/**
 * The range a query asks for: `to` defaults to today in the zone, `from` to 29 days before `to`.
 * The zone itself is checked by the DTO (and against PostgreSQL's list by the service).
 */
export function resolveRange(q: { from?: string; to?: string; tz?: string }, now: Date): ReportRange {
  const tz = q.tz ?? 'UTC';
  const errors: FieldError[] = [];
  if (q.from !== undefined && !isCalendarDate(q.from)) errors.push({ field: 'from', message: 'from must be a date that exists (YYYY-MM-DD)' });
  if (q.to !== undefined && !isCalendarDate(q.to)) errors.push({ field: 'to', message: 'to must be a date that exists (YYYY-MM-DD)' });
  if (errors.length > 0) throw new ValidationException(errors);
  const to = q.to ?? todayIn(tz, now);
  const from = q.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new ValidationException([{ field: 'from', message: 'from must not be after to' }]);
  if (addDays(from, MAX_DAYS - 1) < to) throw new ValidationException([{ field: 'to', message: `a report covers at most ${MAX_DAYS} days` }]);
  return { from, to, tz };
}

/** part / whole in percent with one decimal; null when there is no whole. */
export function percent(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : null;
}
