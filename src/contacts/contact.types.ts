import type { Channel, Touch } from '../tracking/attribution.js';

export type SubscriptionStatus = 'none' | 'pending' | 'subscribed' | 'unsubscribed';

export interface ContactRow {
  id: string;
  workspaceId: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  attributes: Record<string, unknown>;
  tags: string[];
  emailStatus: SubscriptionStatus;
  smsStatus: SubscriptionStatus;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
  firstChannel: Channel | null;
  lastChannel: Channel | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a submission or an import says about a person; absent values never erase known ones. */
export interface ContactInput {
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  attributes: Record<string, unknown>;
  tags: string[];
  touch: Touch | null;
  // New consent per channel: 'pending' (double opt-in) or 'subscribed'; null leaves the status alone.
  emailConsent: 'pending' | 'subscribed' | null;
  smsConsent: 'pending' | 'subscribed' | null;
}

export const CONTACT_COLUMNS = `id, workspace_id AS "workspaceId", email, phone, first_name AS "firstName", last_name AS "lastName",
  attributes, tags, email_status AS "emailStatus", sms_status AS "smsStatus", first_touch AS "firstTouch",
  last_touch AS "lastTouch", first_channel AS "firstChannel", last_channel AS "lastChannel",
  created_at AS "createdAt", updated_at AS "updatedAt"`;
