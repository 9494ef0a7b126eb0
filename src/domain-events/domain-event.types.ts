import type { Channel } from '../tracking/attribution.js';

/**
 * Events the server itself records, with their properties. Tracked events from /v1/public/events
 * (page_view, form_view, custom names) are recorded too, carrying what the page sent plus `url` and `channel`.
 */
export interface ServerEventProperties {
  'form.submitted': {
    formId: string;
    formVersion: number;
    submissionId: string;
    channel: Channel;
    url?: string;
    utm_source?: string;
    utm_medium?: string;
    utm_campaign?: string;
  };
  'contact.confirmed': { formId: string | null; submissionId: string | null };
  'tag.added': { tag: string; source: 'form' | 'api'; formId?: string };
  // Hooks for the messaging and billing modules: ids only, no message bodies.
  'email.opened': { messageId: string };
  'email.clicked': { messageId: string; url: string };
  'sms.replied': { messageId?: string; keyword?: string };
  'payment.succeeded': { paymentId: string; amount: number; currency: string };
  'contact.stage_changed': {
    funnelId: string;
    stageId: string;
    stageKey: string;
    fromStageId: string | null;
    source: 'rule' | 'manual';
  };
}

export type ServerEventType = keyof ServerEventProperties;

// A publishable key is public: a tracked event with one of these names could fake a conversion, so it
// is stored as a tracked event but only recorded as a domain event when a secret key sent it.
export const SERVER_EVENT_TYPES: readonly ServerEventType[] = [
  'form.submitted',
  'contact.confirmed',
  'tag.added',
  'email.opened',
  'email.clicked',
  'sms.replied',
  'payment.succeeded',
  'contact.stage_changed',
];

/** One event to record. `dedupeKey` names its source, unique per workspace: a replay is recorded once. */
export type NewDomainEvent = {
  [T in ServerEventType]: {
    type: T;
    contactId: string;
    properties: ServerEventProperties[T];
    dedupeKey: string;
    // Default: now.
    occurredAt?: Date;
  };
}[ServerEventType];

// How long a hot path's wake-ups of the funnel engine gather before one job is sent for all of them.
export const WAKE_WINDOW_MS = 50;
