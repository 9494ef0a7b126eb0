import type { INestApplicationContext } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import type { NewDomainEvent } from '../src/domain-events/domain-event.types.js';
import { DomainEventsService } from '../src/domain-events/domain-events.service.js';
import { FunnelEngineService } from '../src/funnels/funnel-engine.service.js';
import type { DemoWorkspace } from './demo-data.js';

export interface EngineThroughput {
  events: number;
  moves: number;
  seconds: number;
  eventsPerSecond: number;
}

const RECORD_CHUNK = 2_000;

/**
 * The funnel rule engine on the demo workspace (its funnel and, in the default bench, a million contacts
 * already in it): `contacts` new contacts each sign up, half confirm and one in ten pays, recorded as
 * queued domain events; then the time the engine takes to evaluate the whole queue.
 */
export async function benchRuleEngine(app: INestApplicationContext, demo: DemoWorkspace, contacts: number): Promise<EngineThroughput> {
  const ds = app.get(DataSource);
  const tag = Date.now().toString(36);
  const rows = await ds.query<{ id: string; i: number }[]>(
    `INSERT INTO contacts (workspace_id, email, email_status, first_channel, first_touch, last_touch, last_channel)
     SELECT $1, 'engine-' || $2 || '-' || i || '@example.com', 'subscribed', 'instagram', '{"channel": "instagram"}', '{"channel": "instagram"}', 'instagram'
       FROM generate_series(1, $3::int) i
     RETURNING id, split_part(split_part(email, '@', 1), '-', 3)::int AS i`,
    [demo.workspaceId, tag, contacts],
  );
  const events: NewDomainEvent[] = rows.flatMap(({ id, i }) => {
    const submissionId = `${tag}-${i}`;
    const list: NewDomainEvent[] = [
      {
        type: 'form.submitted',
        contactId: id,
        properties: { formId: demo.formIds[0], formVersion: 1, submissionId, channel: 'instagram' },
        dedupeKey: `bench-engine:${submissionId}:submitted`,
      },
    ];
    if (i % 2 === 0) list.push({ type: 'contact.confirmed', contactId: id, properties: { formId: demo.formIds[0], submissionId }, dedupeKey: `bench-engine:${submissionId}:confirmed` });
    if (i % 10 === 0) {
      list.push({ type: 'payment.succeeded', contactId: id, properties: { paymentId: `pay_${submissionId}`, amount: 49, currency: 'EUR' }, dedupeKey: `bench-engine:${submissionId}:paid` });
    }
    return list;
  });
  const domainEvents = app.get(DomainEventsService);
  for (let k = 0; k < events.length; k += RECORD_CHUNK) {
    await ds.transaction((em) => domainEvents.record(em, demo.workspaceId, events.slice(k, k + RECORD_CHUNK)));
  }
  const started = performance.now();
  const result = await app.get(FunnelEngineService).evaluateWorkspace(demo.workspaceId);
  const seconds = (performance.now() - started) / 1000;
  return { events: result.events, moves: result.moves, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: Math.round(result.events / seconds) };
}
