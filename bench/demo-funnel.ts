import type { INestApplicationContext } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateOrReject } from 'class-validator';
import type { QueryRunner } from 'typeorm';
import type { WorkspaceContext } from '../src/common/auth-context.js';
import { VALIDATION_OPTIONS } from '../src/common/validation.js';
import { CreateFunnelDto } from '../src/funnels/funnels.dto.js';
import { FunnelsService } from '../src/funnels/funnels.service.js';

// The forms of the demo (by position in its list) that ask for a double opt-in.
const DOUBLE_OPT_IN_FORMS = [2, 4];
// Share of contacts who buy, by first channel: WhatsApp customers are regulars, TikTok browsers rarely buy.
const CUSTOMER_SHARE: Record<string, number> = { whatsapp: 0.15, email: 0.12, instagram: 0.07, facebook: 0.06, tiktok: 0.03 };

export interface DemoFunnel {
  id: string;
  // Stage ids by key: lead, confirmed, customer.
  stages: Record<string, string>;
}

/** A funnel "Social signup → customer": lead on a form submission, confirmed on a double opt-in, customer on a payment. */
export async function createDemoFunnel(app: INestApplicationContext, ws: WorkspaceContext): Promise<DemoFunnel> {
  const dto = plainToInstance(CreateFunnelDto, {
    name: 'Social signup → customer',
    description: 'Demo: every contact enters on their first signup; confirmed on a double opt-in; customer on a payment.',
    stages: [
      { key: 'lead', name: 'Lead', position: 10, rules: [{ event: 'form.submitted' }] },
      { key: 'confirmed', name: 'Confirmed subscriber', position: 20, rules: [{ event: 'contact.confirmed' }] },
      { key: 'customer', name: 'Customer', position: 30, rules: [{ event: 'payment.succeeded' }] },
    ],
  });
  await validateOrReject(dto, VALIDATION_OPTIONS);
  const funnel = await app.get(FunnelsService).create(ws, dto);
  return { id: funnel.id, stages: Object.fromEntries(funnel.stages.map((s) => [s.key, s.id])) };
}

/**
 * The journeys of one part of the demo contacts (`part` of `parts`, by a hash of their id) through the
 * demo funnel, as the rule engine would have written them: the domain events (already evaluated, so
 * not queued), the stage history and the current stages. Set-based on `runner`, which must not skip
 * triggers: the funnel's report counts follow from its own. The engine itself is
 * measured by bench/funnel-bench.ts; the contact.stage_changed events it would also have recorded are
 * left out.
 */
export async function seedDemoJourneys(
  runner: QueryRunner,
  ws: WorkspaceContext,
  funnel: DemoFunnel,
  formIds: string[],
  now: Date,
  part: number,
  parts: number,
): Promise<void> {
  const stage = funnel.stages;
  const [{ skipChecks }] = await runner.manager.query<{ skipChecks: boolean }[]>(
    `SELECT has_parameter_privilege('session_replication_role', 'SET') AS "skipChecks"`,
  );
  // Statement by statement, not one transaction: the funnel's count triggers upsert shared rows, and
  // a long transaction would hold them against the other lanes. A failed seed is regenerated anyway.
  try {
    // Who reached what, and when: one row per contact.
    await runner.query(
      `CREATE TEMP TABLE demo_journey AS
       SELECT contact_id, first_channel, submission_id, form_id, lead_at, confirmed_at,
              CASE WHEN bought AND paid_at < $3 THEN paid_at END AS customer_at
         FROM (SELECT c.id AS contact_id, c.first_channel, s.id AS submission_id, s.form_id, s.created_at AS lead_at,
                      CASE WHEN c.email_status = 'subscribed' AND s.form_id = ANY($2::uuid[])
                           THEN date_trunc('milliseconds', s.created_at + interval '2 minutes' + random() * interval '2 days') END AS confirmed_at,
                      random() < CASE c.first_channel ${Object.entries(CUSTOMER_SHARE).map(([ch, p]) => `WHEN '${ch}' THEN ${p}`).join(' ')} ELSE 0.05 END AS bought,
                      date_trunc('milliseconds', s.created_at + interval '3 days' + random() * interval '40 days') AS paid_at
                 FROM contacts c
                 JOIN submissions s ON s.contact_id = c.id AND s.created_at = c.created_at
                WHERE c.workspace_id = $1 AND s.workspace_id = $1 AND abs(hashtext(c.id::text)) % $5 = $4) j`,
      [ws.id, DOUBLE_OPT_IN_FORMS.map((i) => formIds[i - 1]), now, part, parts],
    );
    // The domain events behind each move. domain_events has no triggers: its foreign-key checks can be
    // skipped where the role may, as for the seed's other bulk inserts (not for the funnel tables below).
    if (skipChecks) await runner.query(`SET session_replication_role = replica`);
    await runner.query(
      `CREATE TEMP TABLE demo_moves AS
       WITH recorded AS (
         INSERT INTO domain_events (workspace_id, contact_id, type, properties, dedupe_key, occurred_at, created_at)
         SELECT $1, contact_id, type, properties, dedupe_key, at, at
           FROM (SELECT contact_id, 'form.submitted' AS type, lead_at AS at, 'submission:' || submission_id AS dedupe_key,
                        jsonb_build_object('formId', form_id, 'formVersion', 1, 'submissionId', submission_id, 'channel', COALESCE(first_channel, 'direct')) AS properties
                   FROM demo_journey
                 UNION ALL
                 SELECT contact_id, 'contact.confirmed', confirmed_at, 'double_opt_in:' || submission_id,
                        jsonb_build_object('formId', form_id, 'submissionId', submission_id)
                   FROM demo_journey WHERE confirmed_at IS NOT NULL
                 UNION ALL
                 SELECT contact_id, 'payment.succeeded', customer_at, 'demo-payment:' || contact_id,
                        jsonb_build_object('paymentId', 'pay_' || left(md5(contact_id::text), 16), 'amount', 49, 'currency', 'EUR')
                   FROM demo_journey WHERE customer_at IS NOT NULL) e
          ORDER BY at
         RETURNING id, contact_id, type, occurred_at
       )
       SELECT id, contact_id, type, occurred_at FROM recorded`,
      [ws.id],
    );
    if (skipChecks) await runner.query(`RESET session_replication_role`);
    // As the engine writes history: each entry names the stage before it and the seconds since the
    // contact entered that one. A customer who never confirmed enters "confirmed" as skipped at the
    // payment's instant (the funnel counts skipped stages), then "customer" zero seconds later.
    await runner.query(
      `INSERT INTO funnel_stage_history (workspace_id, funnel_id, contact_id, stage_id, from_stage_id, entered_at, source,
                                         domain_event_id, event_type, channel, seconds_from_previous, created_at)
       SELECT $1, $2, m.contact_id, x.stage_id, x.from_stage_id, m.occurred_at, x.source, m.id, m.type, j.first_channel,
              extract(epoch FROM m.occurred_at - CASE x.since WHEN 'lead' THEN j.lead_at WHEN 'confirmed' THEN COALESCE(j.confirmed_at, m.occurred_at) END)::float8,
              m.occurred_at
         FROM demo_moves m
         JOIN demo_journey j USING (contact_id)
         JOIN (VALUES ('form.submitted', $3::uuid, NULL::uuid, 'rule', NULL, false),
                      ('contact.confirmed', $4::uuid, $3::uuid, 'rule', 'lead', false),
                      ('payment.succeeded', $4::uuid, $3::uuid, 'skip', 'lead', true),
                      ('payment.succeeded', $5::uuid, $4::uuid, 'rule', 'confirmed', false)) AS x(type, stage_id, from_stage_id, source, since, only_unconfirmed)
           ON x.type = m.type AND (NOT x.only_unconfirmed OR j.confirmed_at IS NULL)
        ORDER BY m.occurred_at`,
      [ws.id, funnel.id, stage.lead, stage.confirmed, stage.customer],
    );
    await runner.query(
      `INSERT INTO funnel_contacts (workspace_id, funnel_id, contact_id, stage_id, channel, entered_at, funnel_entered_at)
       SELECT $1, $2, contact_id,
              CASE WHEN customer_at IS NOT NULL THEN $5::uuid WHEN confirmed_at IS NOT NULL THEN $4::uuid ELSE $3::uuid END,
              first_channel, COALESCE(customer_at, confirmed_at, lead_at), lead_at
         FROM demo_journey`,
      [ws.id, funnel.id, stage.lead, stage.confirmed, stage.customer],
    );
  } finally {
    await runner.query(`DROP TABLE IF EXISTS demo_journey, demo_moves`);
  }
}
