import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `domain_event_queue.contact_id`: whose event each queued row is. The rule engine's lanes split a
 * workspace's queue by contact, and until now learnt each row's contact by reading its event: a lane
 * looked up every queued event of the workspace (its own and the other lanes') before it could take the
 * oldest of its own, so a batch cost grew with the whole backlog. Now a lane filters the queue itself and
 * reads only the events it takes.
 *
 * Runs forward on a database with data: rows already queued get their event's contact. A row left
 * without one (its event is gone, or an older process queued it during an upgrade) is taken by any lane.
 * No foreign key: a row whose contact was erased is dropped when claimed, as before.
 */
export class QueueContact1795256400000 implements MigrationInterface {
  name = 'QueueContact1795256400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE domain_event_queue ADD COLUMN contact_id uuid`);
    await q.query(`UPDATE domain_event_queue q SET contact_id = e.contact_id FROM domain_events e WHERE e.id = q.event_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE domain_event_queue DROP COLUMN contact_id`);
  }
}
