import { Injectable } from '@nestjs/common';
import { ValidationException, type FieldError } from '../common/problem.js';
import { SERVER_EVENT_TYPES } from '../domain-events/domain-event.types.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { classifyChannel, type TouchContext } from './attribution.js';
import { parseEventBatch } from './event-batch.js';
import type { EventBatchResponse } from './events.dto.js';
import { EventsRepository } from './events.repository.js';

// Clocks on phones drift; an event from the future beyond this is a bug, not a visit.
const MAX_FUTURE_MS = 5 * 60_000;
const MAX_PAST_MS = 30 * 86_400_000;
const MAX_JSON = 8_192;

@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventsRepository,
    private readonly domainEvents: DomainEventsService,
  ) {}

  async ingest(key: { workspaceId: string; secret: boolean }, body: unknown): Promise<EventBatchResponse> {
    const events = parseEventBatch(body);
    const now = Date.now();
    const errors: FieldError[] = [];
    // Contexts repeat within a batch (one page, many events): classify each distinct one once.
    const channels = new Map<string, ReturnType<typeof classifyChannel>>();
    const rows = events.map((e, i) => {
      const at = e.occurredAt ? Date.parse(e.occurredAt) : now;
      if (at > now + MAX_FUTURE_MS || at < now - MAX_PAST_MS) errors.push({ field: `events.${i}.occurredAt`, message: 'must be within the last 30 days' });
      // A publishable key is public: it may not attach events to a contact by id.
      if (e.contactId && !key.secret) errors.push({ field: `events.${i}.contactId`, message: 'needs a secret key' });
      if (!e.anonymousId && !e.contactId) errors.push({ field: `events.${i}.anonymousId`, message: 'anonymousId or contactId is required' });
      const properties = JSON.stringify(e.properties ?? {});
      const context = JSON.stringify(e.context ?? {});
      if (properties.length > MAX_JSON) errors.push({ field: `events.${i}.properties`, message: `must be at most ${MAX_JSON} bytes as JSON` });
      return {
        type: e.type,
        anonymousId: e.anonymousId ?? null,
        contactId: e.contactId ?? null,
        properties,
        context,
        channel: e.context ? channelOf(channels, context, e.context) : null,
        occurredAt: new Date(at).toISOString(),
      };
    });
    if (errors.length > 0) throw new ValidationException(errors, 'Some events are invalid; none were stored.');
    const { accepted, recorded } = await this.events.insertBatch(key.workspaceId, rows, key.secret, SERVER_EVENT_TYPES);
    // After the commit, and coalesced with other batches: the batch stays one round trip.
    if (recorded > 0) this.domainEvents.wakeSoon(key.workspaceId);
    return { accepted };
  }
}

function channelOf(cache: Map<string, ReturnType<typeof classifyChannel>>, key: string, context: TouchContext): ReturnType<typeof classifyChannel> {
  let channel = cache.get(key);
  if (channel === undefined) {
    channel = classifyChannel(context);
    cache.set(key, channel);
  }
  return channel;
}
