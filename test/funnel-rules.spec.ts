import { isTimeZone } from '../src/common/time-zone.js';
import { countRanges, medianSamples, reportStages } from '../src/funnels/funnel-report.js';
import {
  compileRules,
  entriesFor,
  matchEvents,
  planMoves,
  ruleMatches,
  stageProblems,
  type ClaimedEvent,
  type CompiledFunnel,
  type CurrentStage,
  type StageRule,
} from '../src/funnels/funnel-rules.js';

const ev = (type: string, properties: Record<string, unknown> = {}) => ({ type, properties });

describe('rule matching', () => {
  it('matches the event type, with no filter', () => {
    expect(ruleMatches({ event: 'form.submitted' }, ev('form.submitted'))).toBe(true);
    expect(ruleMatches({ event: 'form.submitted' }, ev('contact.confirmed'))).toBe(false);
    expect(ruleMatches({ event: 'demo_booked' }, ev('demo_booked', { plan: 'pro' }))).toBe(true);
  });

  it('filters by form, tag, url and property; every condition given must hold', () => {
    const form: StageRule = { event: 'form.submitted', filter: { formId: 'f1' } };
    expect(ruleMatches(form, ev('form.submitted', { formId: 'f1' }))).toBe(true);
    expect(ruleMatches(form, ev('form.submitted', { formId: 'f2' }))).toBe(false);
    expect(ruleMatches(form, ev('form.submitted'))).toBe(false);

    const tag: StageRule = { event: 'tag.added', filter: { tag: 'vip' } };
    expect(ruleMatches(tag, ev('tag.added', { tag: 'vip' }))).toBe(true);
    expect(ruleMatches(tag, ev('tag.added', { tag: 'VIP' }))).toBe(false);

    const url: StageRule = { event: 'page_view', filter: { urlContains: '/Pricing' } };
    expect(ruleMatches(url, ev('page_view', { url: 'https://shop.example/pricing?x=1' }))).toBe(true);
    expect(ruleMatches(url, ev('page_view', { url: 'https://shop.example/about' }))).toBe(false);
    expect(ruleMatches(url, ev('page_view', { url: 42 }))).toBe(false);

    const prop: StageRule = { event: 'payment.succeeded', filter: { property: { name: 'amount', equals: 49 } } };
    expect(ruleMatches(prop, ev('payment.succeeded', { amount: 49 }))).toBe(true);
    // Strict: the number 49 is not the string "49".
    expect(ruleMatches(prop, ev('payment.succeeded', { amount: '49' }))).toBe(false);
    const nested: StageRule = { event: 'demo_booked', filter: { property: { name: 'plan.tier', equals: 'pro' } } };
    expect(ruleMatches(nested, ev('demo_booked', { plan: { tier: 'pro' } }))).toBe(true);
    expect(ruleMatches(nested, ev('demo_booked', { 'plan.tier': 'pro' }))).toBe(true);
    expect(ruleMatches(nested, ev('demo_booked', { plan: 'pro' }))).toBe(false);

    const both: StageRule = { event: 'form.submitted', filter: { formId: 'f1', urlContains: 'ig' } };
    expect(ruleMatches(both, ev('form.submitted', { formId: 'f1', url: 'https://x/ig' }))).toBe(true);
    expect(ruleMatches(both, ev('form.submitted', { formId: 'f1', url: 'https://x/fb' }))).toBe(false);
  });
});

describe('stage definitions', () => {
  it('names duplicates and filters that could never match', () => {
    const problems = stageProblems([
      { key: 'lead', name: 'Lead', position: 1, rules: [{ event: 'page_view', filter: { tag: 'vip' } }] },
      { key: 'lead', name: 'Again', position: 1, rules: [{ event: 'contact.stage_changed' }, { event: 'custom_thing', filter: { tag: 'x' } }] },
    ]);
    expect(problems).toEqual([
      { field: 'stages.0.rules.0.filter.tag', message: expect.stringContaining('never match') },
      { field: 'stages.1.key', message: 'duplicate stage key "lead"' },
      { field: 'stages.1.position', message: 'duplicate position 1' },
      { field: 'stages.1.rules.0.event', message: expect.any(String) },
    ]);
  });
});

describe('move planning', () => {
  const funnel = (skippedStagesCount: boolean): CompiledFunnel => ({
    id: 'F',
    skippedStagesCount,
    stages: [
      { id: 's30', key: 'customer', position: 30, rules: [{ event: 'payment.succeeded' }] },
      { id: 's10', key: 'lead', position: 10, rules: [{ event: 'form.submitted' }] },
      { id: 's20', key: 'confirmed', position: 20, rules: [{ event: 'contact.confirmed' }] },
    ],
  });
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
  const event = (id: string, type: string, minute: number, contactId = 'c1'): ClaimedEvent => ({ id, type, contactId, properties: {}, occurredAt: at(minute), channel: 'instagram' });
  const entries = (moves: { entries: { stageId: string; source: string }[] }[], i = 0) => moves[i].entries.map((e) => ({ stageId: e.stageId, source: e.source }));
  const plan = (f: CompiledFunnel, events: ClaimedEvent[], current = new Map<string, CurrentStage>(), applied = new Set<string>()) =>
    planMoves(matchEvents(compileRules([f]), events), current, applied);

  it('moves forward in event order, never back', () => {
    const moves = plan(funnel(false), [event('3', 'contact.confirmed', 5), event('2', 'form.submitted', 1), event('4', 'form.submitted', 9)]);
    expect(moves.map((m) => [m.to.key, m.enteredAt.toISOString(), m.entries, m.channel])).toEqual([
      ['lead', at(1).toISOString(), [{ stageId: 's10', source: 'rule', secondsFromPrevious: null }], 'instagram'],
      ['confirmed', at(5).toISOString(), [{ stageId: 's20', source: 'rule', secondsFromPrevious: 240 }], 'instagram'],
    ]);
  });

  it('enters skipped stages only when the funnel counts them', () => {
    const counted = plan(funnel(true), [event('1', 'payment.succeeded', 1)]);
    expect(counted[0].entries).toEqual([
      { stageId: 's10', source: 'skip', secondsFromPrevious: null },
      { stageId: 's20', source: 'skip', secondsFromPrevious: 0 },
      { stageId: 's30', source: 'rule', secondsFromPrevious: 0 },
    ]);
    // From lead (entered at minute 0), paying at minute 1: the skipped stage took the whole minute.
    const fromLead = plan(funnel(true), [event('1', 'payment.succeeded', 1)], new Map([['F:c1', { stageId: 's10', position: 10, enteredAt: at(0), funnelEnteredAt: at(0) }]]));
    expect(fromLead[0].entries).toEqual([
      { stageId: 's20', source: 'skip', secondsFromPrevious: 60 },
      { stageId: 's30', source: 'rule', secondsFromPrevious: 0 },
    ]);
    // Not counted: the stage before the target was never entered, so no time from it.
    const strict = plan(funnel(false), [event('1', 'payment.succeeded', 1)], new Map([['F:c1', { stageId: 's10', position: 10, enteredAt: at(0), funnelEnteredAt: at(0) }]]));
    expect(strict[0].entries).toEqual([{ stageId: 's30', source: 'rule', secondsFromPrevious: null }]);
  });

  it('records an earlier stage the same event matched as a rule entry', () => {
    const f: CompiledFunnel = {
      id: 'F',
      skippedStagesCount: false,
      stages: [
        { id: 'a', key: 'a', position: 1, rules: [{ event: 'x' }] },
        { id: 'b', key: 'b', position: 2, rules: [] },
        { id: 'c', key: 'c', position: 3, rules: [{ event: 'x' }] },
      ],
    };
    expect(entries(plan(f, [event('1', 'x', 1)]))).toEqual([
      { stageId: 'a', source: 'rule' },
      { stageId: 'c', source: 'rule' },
    ]);
  });

  it('skips events already applied to the funnel (a replay) and never enters a stage before the current one', () => {
    expect(plan(funnel(false), [event('7', 'form.submitted', 1)], new Map(), new Set(['F:7']))).toEqual([]);
    const late = plan(funnel(false), [event('8', 'contact.confirmed', 1)], new Map([['F:c1', { stageId: 's10', position: 10, enteredAt: at(30), funnelEnteredAt: at(30) }]]));
    expect(late[0].enteredAt).toEqual(at(30));
  });

  it('keeps an archived current stage where it was', () => {
    const current = new Map([['F:c1', { stageId: 'old', position: 25, enteredAt: at(0), funnelEnteredAt: at(0) }]]);
    expect(plan(funnel(true), [event('1', 'contact.confirmed', 1)], current)).toEqual([]);
    expect(entries(plan(funnel(true), [event('2', 'payment.succeeded', 1)], current))).toEqual([{ stageId: 's30', source: 'rule' }]);
  });

  it('plans manual moves the same way: skipped stages forward, the target only going back', () => {
    const stages = compileRules([funnel(true)]).funnels[0].stages;
    const lead = { stageId: 's10', position: 10, enteredAt: at(0) };
    expect(entriesFor(stages, lead, 2, at(2), { countSkipped: true, targetSource: 'manual' })).toEqual([
      { stageId: 's20', source: 'skip', secondsFromPrevious: 120 },
      { stageId: 's30', source: 'manual', secondsFromPrevious: 0 },
    ]);
    const customer = { stageId: 's30', position: 30, enteredAt: at(0) };
    expect(entriesFor(stages, customer, 0, at(2), { countSkipped: true, targetSource: 'manual' })).toEqual([{ stageId: 's10', source: 'manual', secondsFromPrevious: null }]);
    expect(entriesFor(stages, customer, 1, at(2), { countSkipped: true, targetSource: 'manual' })).toEqual([{ stageId: 's20', source: 'manual', secondsFromPrevious: null }]);
  });

  it('plans each contact and funnel on its own', () => {
    const moves = plan(funnel(false), [event('1', 'form.submitted', 1, 'c1'), event('2', 'form.submitted', 2, 'c2'), event('3', 'payment.succeeded', 3, 'c1')]);
    expect(moves.map((m) => `${m.contactId}:${m.to.key}`).sort()).toEqual(['c1:customer', 'c1:lead', 'c2:lead']);
  });
});

describe('report arithmetic', () => {
  it('computes step and overall conversion, nulls when dividing by zero', () => {
    const stages = [
      { id: 'a', key: 'a', name: 'A', position: 1 },
      { id: 'b', key: 'b', name: 'B', position: 2 },
      { id: 'c', key: 'c', name: 'C', position: 3 },
    ];
    const rows = reportStages(stages, new Map([['a', { entered: 3, currentlyIn: 1, medianSecondsFromPrevious: null }], ['b', { entered: 2, currentlyIn: 2, medianSecondsFromPrevious: 90.5 }]]));
    expect(rows.map((r) => [r.entered, r.stepConversionPct, r.overallConversionPct, r.medianSecondsFromPrevious])).toEqual([
      [3, null, 100, null],
      [2, 66.67, 66.67, 90.5],
      [0, 0, 0, null],
    ]);
    expect(reportStages(stages, new Map()).map((r) => r.overallConversionPct)).toEqual([null, null, null]);
  });

  it('accepts IANA zone names only', () => {
    expect(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+1'].map(isTimeZone)).toEqual([true, true, true, true]);
    expect(['+01:00', 'Mars/Olympus', '', 'Europe/Berlin; DROP TABLE x', 42].map(isTimeZone)).toEqual([false, false, false, false, false]);
  });
});

describe('funnel report windows', () => {
  const d = (iso: string) => new Date(iso);

  it('reads whole UTC days from the daily rollup and the partial ends from 15-minute slots', () => {
    expect(countRanges(d('2026-01-05T10:30:00Z'), d('2026-01-09T21:00:00Z'), false)).toEqual({
      days: { from: '2026-01-06', to: '2026-01-09' },
      slots: [
        { from: d('2026-01-05T10:30:00Z'), to: d('2026-01-06T00:00:00Z') },
        { from: d('2026-01-09T00:00:00Z'), to: d('2026-01-09T21:00:00Z') },
      ],
    });
    // Day-aligned ends: days only (the slot ranges are empty).
    const aligned = countRanges(d('2026-01-01T00:00:00Z'), d('2026-02-01T00:00:00Z'), false);
    expect(aligned.days).toEqual({ from: '2026-01-01', to: '2026-02-01' });
    expect(aligned.slots.every((s) => s.from.getTime() === s.to.getTime())).toBe(true);
  });

  it('uses slots only inside one day, and for local-day buckets', () => {
    const inside = countRanges(d('2026-01-05T10:30:00Z'), d('2026-01-05T21:00:00Z'), false);
    expect(inside.days).toBeNull();
    expect(inside.slots[0]).toEqual({ from: d('2026-01-05T10:30:00Z'), to: d('2026-01-05T21:00:00Z') });
    expect(countRanges(d('2026-01-01T00:00:00Z'), d('2026-02-01T00:00:00Z'), true).days).toBeNull();
  });

  it('takes every sample up to the exact limit, and enough for about the limit above it', () => {
    expect(medianSamples(0, 20_000)).toBe(64);
    expect(medianSamples(20_000, 20_000)).toBe(64);
    expect(medianSamples(40_000, 20_000)).toBe(32);
    expect(medianSamples(100_000, 20_000)).toBe(13);
    expect(medianSamples(10_000_000, 20_000)).toBe(1);
  });
});
