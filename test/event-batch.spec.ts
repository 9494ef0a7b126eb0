import { ValidationException } from '../src/common/problem.js';
import { parseEventBatch } from '../src/tracking/event-batch.js';

const fieldsOf = (body: unknown): string[] => {
  try {
    parseEventBatch(body);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationException);
    return ((err as ValidationException).errors ?? []).map((e) => e.field);
  }
};

describe('event batch validation', () => {
  it('accepts a well-formed batch', () => {
    const events = [{ type: 'page_view', anonymousId: 'anon_12345678', properties: { a: 1 }, context: { url: 'https://x.example/', utm_source: 'ig' }, occurredAt: new Date().toISOString() }];
    expect(parseEventBatch({ events })).toEqual(events);
  });

  it.each([
    ['not an object', 'nope', ['events']],
    ['no events', {}, ['events']],
    ['too many', { events: Array.from({ length: 101 }, () => ({ type: 'x', anonymousId: 'anon_12345678' })) }, ['events']],
    ['an unknown top-level field', { events: [{ type: 'x' }], extra: 1 }, ['extra']],
    ['a bad type', { events: [{ type: 'Bad Type' }] }, ['events.0.type']],
    ['an unknown event field', { events: [{ type: 'x', colour: 'red' }] }, ['events.0.colour']],
    ['an unknown context field', { events: [{ type: 'x', context: { utm_x: 'y' } }] }, ['events.0.context.utm_x']],
    ['an oversized context value', { events: [{ type: 'x', context: { utm_source: 'x'.repeat(201) } }] }, ['events.0.context.utm_source']],
    ['a non-text context value', { events: [{ type: 'x', context: { url: 5 } }] }, ['events.0.context.url']],
    ['a bad contact id', { events: [{ type: 'x', contactId: 'abc' }] }, ['events.0.contactId']],
    ['a bad date', { events: [{ type: 'x', occurredAt: 'yesterday' }] }, ['events.0.occurredAt']],
    ['properties not an object', { events: [{ type: 'x', properties: [1] }] }, ['events.0.properties']],
  ])('names the problem: %s', (_, body, fields) => {
    expect(fieldsOf(body)).toEqual(fields);
  });
});
