import { ValidationException } from '../src/common/problem.js';
import { addDays, datesOf, isCalendarDate, MAX_DAYS, percent, resolveRange, todayIn } from '../src/analytics/report-range.js';

describe('report ranges', () => {
  const now = new Date('2025-03-30T23:30:00Z');

  it('defaults to the last 30 days, today in the zone included', () => {
    expect(resolveRange({}, now)).toEqual({ from: '2025-03-01', to: '2025-03-30', tz: 'UTC' });
    // 23:30Z on the 30th is already the 31st in Berlin (summer time from that night).
    expect(resolveRange({ tz: 'Europe/Berlin' }, now)).toEqual({ from: '2025-03-02', to: '2025-03-31', tz: 'Europe/Berlin' });
    expect(resolveRange({ to: '2025-01-10' }, now)).toEqual({ from: '2024-12-12', to: '2025-01-10', tz: 'UTC' });
  });

  it('knows which dates exist and what day it is where', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2025-02-29')).toBe(false);
    expect(isCalendarDate('2025-04-31')).toBe(false);
    expect(isCalendarDate('2025-4-1')).toBe(false);
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(todayIn('Pacific/Kiritimati', new Date('2025-03-10T10:30:00Z'))).toBe('2025-03-11');
    expect(todayIn('Pacific/Pago_Pago', new Date('2025-03-10T10:30:00Z'))).toBe('2025-03-09');
    expect(datesOf({ from: '2025-02-27', to: '2025-03-02', tz: 'UTC' })).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
  });

  it('refuses ranges that end before they start, span more than a year, or name impossible dates', () => {
    const field = (q: Record<string, string>) => {
      try {
        resolveRange(q, now);
      } catch (err) {
        if (err instanceof ValidationException) return err.errors?.map((e) => e.field);
        throw err;
      }
      return [];
    };
    expect(field({ from: '2025-03-02', to: '2025-03-01' })).toEqual(['from']);
    expect(field({ from: '2024-01-01', to: addDays('2024-01-01', MAX_DAYS - 1) })).toEqual([]);
    expect(field({ from: '2024-01-01', to: addDays('2024-01-01', MAX_DAYS) })).toEqual(['to']);
    expect(field({ from: '2025-02-30', to: '2025-13-01' })).toEqual(['from', 'to']);
  });

  it('rounds percentages to one decimal and has none without a whole', () => {
    expect(percent(1, 3)).toBe(33.3);
    expect(percent(2, 3)).toBe(66.7);
    expect(percent(5, 5)).toBe(100);
    expect(percent(0, 0)).toBeNull();
  });
});
