// Pure rule matching and move planning: no I/O, unit-tested on its own (test/funnel-rules.spec.ts).

export const BUILT_IN_RULE_EVENTS = [
  'form.submitted',
  'contact.confirmed',
  'tag.added',
  'page_view',
  'email.opened',
  'email.clicked',
  'sms.replied',
  'payment.succeeded',
] as const;

// The same shape as tracked event types, so any custom event name can drive a stage.
export const RULE_EVENT_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;

export type FilterKind = 'formId' | 'tag' | 'urlContains' | 'property';

// Which filters can ever match each built-in event (what its properties carry); custom events: all.
const FILTERS_BY_EVENT: Record<(typeof BUILT_IN_RULE_EVENTS)[number], readonly FilterKind[]> = {
  'form.submitted': ['formId', 'urlContains', 'property'],
  'contact.confirmed': ['formId', 'property'],
  'tag.added': ['tag', 'formId', 'property'],
  page_view: ['urlContains', 'property', 'formId'],
  'email.opened': ['property'],
  'email.clicked': ['urlContains', 'property'],
  'sms.replied': ['property'],
  'payment.succeeded': ['property'],
};

export type PropertyValue = string | number | boolean;

export interface RuleFilter {
  formId?: string;
  tag?: string;
  urlContains?: string;
  property?: { name: string; equals: PropertyValue };
}

export interface StageRule {
  event: string;
  filter?: RuleFilter;
}

export interface StageDefinition {
  key: string;
  name: string;
  position: number;
  rules: StageRule[];
}

/** Problems a stage list has beyond field-by-field validation, named by field path. */
export function stageProblems(stages: readonly StageDefinition[]): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const keys = new Set<string>();
  const positions = new Set<number>();
  stages.forEach((s, i) => {
    if (keys.has(s.key)) problems.push({ field: `stages.${i}.key`, message: `duplicate stage key "${s.key}"` });
    keys.add(s.key);
    if (positions.has(s.position)) problems.push({ field: `stages.${i}.position`, message: `duplicate position ${s.position}` });
    positions.add(s.position);
    s.rules.forEach((r, j) => {
      const at = `stages.${i}.rules.${j}`;
      // The engine's own output is not evaluated again: a rule on it would never match.
      if (r.event === 'contact.stage_changed') problems.push({ field: `${at}.event`, message: 'contact.stage_changed cannot drive a funnel stage' });
      const allowed = (FILTERS_BY_EVENT as Record<string, readonly FilterKind[] | undefined>)[r.event];
      if (!allowed || !r.filter) return;
      for (const kind of ['formId', 'tag', 'urlContains', 'property'] as const) {
        if (r.filter[kind] !== undefined && !allowed.includes(kind)) {
          problems.push({ field: `${at}.filter.${kind}`, message: `${r.event} events carry no ${kind === 'urlContains' ? 'url' : kind}: this filter would never match` });
        }
      }
    });
  });
  return problems;
}

export interface MatchableEvent {
  type: string;
  properties: Record<string, unknown>;
}

/** A property by name; a dotted name reaches into nested objects when no key has that exact name. */
function propertyAt(properties: Record<string, unknown>, name: string): unknown {
  if (name in properties) return properties[name];
  let value: unknown = properties;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Every condition the filter gives must hold; URLs match case-insensitively (people type them so). */
export function ruleMatches(rule: StageRule, event: MatchableEvent): boolean {
  if (rule.event !== event.type) return false;
  const f = rule.filter;
  if (!f) return true;
  const p = event.properties;
  if (f.formId !== undefined && p.formId !== f.formId) return false;
  if (f.tag !== undefined && p.tag !== f.tag) return false;
  if (f.urlContains !== undefined) {
    if (typeof p.url !== 'string' || !p.url.toLowerCase().includes(f.urlContains.toLowerCase())) return false;
  }
  if (f.property !== undefined && propertyAt(p, f.property.name) !== f.property.equals) return false;
  return true;
}

// ---- a workspace's active funnels, compiled for the engine

export interface CompiledStage {
  id: string;
  key: string;
  position: number;
  rules: StageRule[];
}

export interface CompiledFunnel {
  id: string;
  skippedStagesCount: boolean;
  // Active stages, by position.
  stages: CompiledStage[];
}

export interface RuleSet {
  funnels: CompiledFunnel[];
  // Event type → the (funnel, stage) pairs with at least one rule on it: most events touch none.
  byEvent: Map<string, { funnel: CompiledFunnel; stageIndex: number }[]>;
}

export function compileRules(input: readonly CompiledFunnel[]): RuleSet {
  const funnels = input.map((f) => ({ ...f, stages: [...f.stages].sort((a, b) => a.position - b.position) }));
  const byEvent = new Map<string, { funnel: CompiledFunnel; stageIndex: number }[]>();
  for (const funnel of funnels) {
    funnel.stages.forEach((stage, stageIndex) => {
      for (const type of new Set(stage.rules.map((r) => r.event))) {
        const list = byEvent.get(type) ?? [];
        list.push({ funnel, stageIndex });
        byEvent.set(type, list);
      }
    });
  }
  return { funnels, byEvent };
}

export interface ClaimedEvent extends MatchableEvent {
  id: string;
  contactId: string;
  occurredAt: Date;
  // The contact's first-touch channel, kept with its stage entries for the report.
  channel: string | null;
}

export interface EventMatch {
  funnel: CompiledFunnel;
  event: ClaimedEvent;
  // Indexes into funnel.stages whose rules matched, ascending.
  stageIndexes: number[];
}

/** The funnels and stages each event matches. */
export function matchEvents(rules: RuleSet, events: readonly ClaimedEvent[]): EventMatch[] {
  const matches: EventMatch[] = [];
  for (const event of events) {
    const candidates = rules.byEvent.get(event.type);
    if (!candidates) continue;
    const perFunnel = new Map<CompiledFunnel, number[]>();
    for (const { funnel, stageIndex } of candidates) {
      if (!funnel.stages[stageIndex].rules.some((r) => ruleMatches(r, event))) continue;
      const list = perFunnel.get(funnel) ?? [];
      list.push(stageIndex);
      perFunnel.set(funnel, list);
    }
    for (const [funnel, stageIndexes] of perFunnel) matches.push({ funnel, event, stageIndexes: stageIndexes.sort((a, b) => a - b) });
  }
  return matches;
}

// ---- moves

export interface CurrentStage {
  stageId: string;
  // An archived stage keeps the position it had, so "forward" still means something.
  position: number;
  enteredAt: Date;
  funnelEnteredAt: Date;
}

export interface StageEntry {
  stageId: string;
  source: 'rule' | 'skip' | 'manual';
  // Since entering the stage before this one, when the contact came from there; null otherwise.
  secondsFromPrevious: number | null;
}

export interface Move {
  funnelId: string;
  contactId: string;
  channel: string | null;
  eventId: string;
  eventType: string;
  from: CurrentStage | null;
  // The contact had no stage in this funnel when the batch began: every stage it enters is its first
  // entry there (a contact's history and current stage are written together, and only go together).
  newToFunnel: boolean;
  to: CompiledStage;
  enteredAt: Date;
  // Stages entered by this move, in order, the target last.
  entries: StageEntry[];
}

/**
 * The stages a move enters, in order, the target last: the stages between the current one and the
 * target that the event matched ('rule') or, when the funnel counts them, that were skipped ('skip').
 * Moving back enters the target only. `stages` are the active ones by position.
 */
export function entriesFor(
  stages: readonly { id: string; position: number }[],
  from: { stageId: string; position: number; enteredAt: Date } | null,
  targetIndex: number,
  enteredAt: Date,
  options: { matched?: ReadonlySet<number>; countSkipped: boolean; targetSource: 'rule' | 'manual' },
): StageEntry[] {
  const fromPosition = from?.position ?? Number.NEGATIVE_INFINITY;
  const enteredNow = new Set<string>();
  const seconds = (i: number): number | null => {
    const previous = stages[i - 1]?.id;
    if (previous === undefined) return null;
    if (enteredNow.has(previous)) return 0;
    return from?.stageId === previous ? (enteredAt.getTime() - from.enteredAt.getTime()) / 1000 : null;
  };
  const entries: StageEntry[] = [];
  for (let i = 0; i < targetIndex; i++) {
    if (stages[i].position <= fromPosition) continue;
    const source = options.matched?.has(i) ? 'rule' : options.countSkipped ? 'skip' : null;
    if (!source) continue;
    entries.push({ stageId: stages[i].id, source, secondsFromPrevious: seconds(i) });
    enteredNow.add(stages[i].id);
  }
  entries.push({ stageId: stages[targetIndex].id, source: options.targetSource, secondsFromPrevious: seconds(targetIndex) });
  return entries;
}

export const pairKey = (funnelId: string, contactId: string): string => `${funnelId}:${contactId}`;

/**
 * Turns matches into forward moves, per (funnel, contact) in event order. A match for the current or an
 * earlier stage moves nobody; an event already applied to a funnel (`applied` holds funnelId:eventId) is
 * skipped, so a replay never moves a contact twice. Stages between the current and the target are entered
 * too: as 'rule' when the event matched them, as 'skip' when the funnel counts skipped stages. A stage is
 * never entered before the current one was (events can arrive late).
 */
export function planMoves(matches: readonly EventMatch[], current: ReadonlyMap<string, CurrentStage>, applied: ReadonlySet<string>): Move[] {
  const byPair = new Map<string, EventMatch[]>();
  for (const m of matches) {
    if (applied.has(`${m.funnel.id}:${m.event.id}`)) continue;
    const key = pairKey(m.funnel.id, m.event.contactId);
    const list = byPair.get(key) ?? [];
    list.push(m);
    byPair.set(key, list);
  }
  const moves: Move[] = [];
  for (const [key, list] of byPair) {
    list.sort((a, b) => a.event.occurredAt.getTime() - b.event.occurredAt.getTime() || compareIds(a.event.id, b.event.id));
    let state = current.get(key) ?? null;
    const newToFunnel = state === null;
    for (const { funnel, event, stageIndexes } of list) {
      const targetIndex = stageIndexes[stageIndexes.length - 1];
      const target = funnel.stages[targetIndex];
      if (state && target.position <= state.position) continue;
      const enteredAt = state && state.enteredAt > event.occurredAt ? state.enteredAt : event.occurredAt;
      const entries = entriesFor(funnel.stages, state, targetIndex, enteredAt, {
        matched: new Set(stageIndexes),
        countSkipped: funnel.skippedStagesCount,
        targetSource: 'rule',
      });
      moves.push({ funnelId: funnel.id, contactId: event.contactId, channel: event.channel, eventId: event.id, eventType: event.type, from: state, newToFunnel, to: target, enteredAt, entries });
      state = { stageId: target.id, position: target.position, enteredAt, funnelEnteredAt: state?.funnelEnteredAt ?? enteredAt };
    }
  }
  return moves;
}

// bigint ids as decimal strings.
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
