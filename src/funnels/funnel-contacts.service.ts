import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { WorkspaceContext } from '../common/auth-context.js';
import type { Actor } from '../common/current.decorators.js';
import { decodeCursor, encodeCursor, type Page } from '../common/pagination.js';
import { ValidationException } from '../common/problem.js';
import { ConcurrentChange, retryOnConflict } from '../database/conflict-retry.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { FunnelContactsRepository, type FunnelContactRow, type StageRefRow } from './funnel-contacts.repository.js';
import { entriesFor } from './funnel-rules.js';
import type { FunnelWithStages } from './funnel.types.js';
import type { ContactFunnelList, FunnelContactResponse, FunnelContactsQuery, MoveContactDto, StageRef } from './funnels.dto.js';
import { FunnelErrorCode, FunnelException } from './funnels.exception.js';
import { FunnelsRepository } from './funnels.repository.js';

// Each rerun follows a conflicting commit of a rule moving the same contact: a few are plenty.
const MOVE_ATTEMPTS = 5;

@Injectable()
export class FunnelContactsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly funnels: FunnelsRepository,
    private readonly contacts: FunnelContactsRepository,
    private readonly domainEvents: DomainEventsService,
  ) {}

  async list(ws: WorkspaceContext, funnelId: string, q: FunnelContactsQuery): Promise<Page<FunnelContactResponse>> {
    const funnel = await this.requireFunnel(ws, funnelId);
    let stageId: string | undefined;
    if (q.stage) {
      stageId = funnel.stages.find((s) => s.key === q.stage)?.id;
      if (!stageId) throw new ValidationException([{ field: 'stage', message: 'this funnel has no stage with this key' }]);
    }
    const rows = await this.contacts.list(ws.id, funnelId, { stageId }, q.limit + 1, decodeCursor(q.cursor));
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page[page.length - 1];
    return {
      data: page.map(toFunnelContactResponse),
      nextCursor: more && last ? encodeCursor({ createdAt: last.enteredAt.toISOString(), id: last.contactId }) : null,
    };
  }

  /**
   * Moves a contact to a stage by hand, in any direction, recorded with who and why. Forward, with
   * skipped stages counted, the stages in between are entered too (as by a rule). Moving to the
   * current stage changes nothing.
   */
  async move(ws: WorkspaceContext, funnelId: string, contactId: string, dto: MoveContactDto, actor: Actor): Promise<FunnelContactResponse> {
    const funnel = await this.requireFunnel(ws, funnelId);
    if (funnel.status === 'archived') {
      throw new FunnelException(HttpStatus.CONFLICT, FunnelErrorCode.Archived, 'This funnel is archived: contacts cannot be moved in it.');
    }
    const active = funnel.stages.filter((s) => s.archivedAt === null);
    const target = active.find((s) => s.key === dto.stageKey);
    if (!target) throw new ValidationException([{ field: 'stageKey', message: 'this funnel has no active stage with this key' }]);
    const contact = await this.contacts.findContact(ws.id, contactId);
    if (!contact) throw FunnelException.notFound('Contact');

    // A rule may move the same contact at this moment. Where the move locked the contact's stage, the
    // rule waits; where the contact was not in the funnel yet there was nothing to lock, and the move
    // can deadlock with the rule, meet its first entry into a stage, or find it put the contact in the
    // funnel meanwhile. Each time, the move runs again from where the rule put the contact.
    await retryOnConflict(() => this.ds.transaction((em) => this.moveIn(em, ws, funnel, { contactId, channel: contact.channel }, target, dto.reason, actor)), {
      attempts: MOVE_ATTEMPTS,
    });
    const [row] = await this.contacts.list(ws.id, funnelId, { contactId }, 1, null);
    return toFunnelContactResponse(row);
  }

  /** The move's transaction: reads and locks where the contact stands, then writes from there. */
  private async moveIn(
    em: EntityManager,
    ws: WorkspaceContext,
    funnel: FunnelWithStages,
    contact: { contactId: string; channel: string | null },
    target: FunnelWithStages['stages'][number],
    reason: string,
    actor: Actor,
  ): Promise<void> {
    const { contactId, channel } = contact;
    const funnelId = funnel.id;
    const active = funnel.stages.filter((s) => s.archivedAt === null);
    const current = await this.contacts.lockState(em, ws.id, funnelId, contactId);
    if (current?.stageId === target.id) return;
    const enteredAt = new Date();
    const entries = entriesFor(active, current, active.indexOf(target), enteredAt, { countSkipped: funnel.skippedStagesCount, targetSource: 'manual' });
    const historyId = await this.contacts.insertManualHistory(
      em,
      ws.id,
      { funnelId, contactId, fromStageId: current?.stageId ?? null, channel, enteredAt, actorUserId: actor.userId, actorApiKeyId: actor.apiKeyId, reason },
      entries,
    );
    const { inserted } = await this.contacts.setCurrent(em, ws.id, { funnelId, contactId, stageId: target.id, channel, enteredAt, funnelEnteredAt: current?.funnelEnteredAt ?? enteredAt });
    if (!current && !inserted) throw new ConcurrentChange('the contact entered the funnel during the move');
    await this.domainEvents.record(
      em,
      ws.id,
      [
        {
          type: 'contact.stage_changed',
          contactId,
          properties: { funnelId, stageId: target.id, stageKey: target.key, fromStageId: current?.stageId ?? null, source: 'manual' },
          dedupeKey: `stage_changed:manual:${historyId}`,
          occurredAt: enteredAt,
        },
      ],
      { evaluate: false },
    );
  }

  /** Every funnel the contact is in: current stage and full history. */
  async forContact(ws: WorkspaceContext, contactId: string): Promise<ContactFunnelList> {
    if (!(await this.contacts.findContact(ws.id, contactId))) throw FunnelException.notFound('Contact');
    const [states, history] = await Promise.all([this.contacts.forContact(ws.id, contactId), this.contacts.historyOf(ws.id, contactId)]);
    return {
      data: states.map((s) => ({
        funnelId: s.funnelId,
        funnelName: s.funnelName,
        stage: stageRef(s),
        enteredAt: s.enteredAt.toISOString(),
        funnelEnteredAt: s.funnelEnteredAt.toISOString(),
        history: history
          .filter((h) => h.funnelId === s.funnelId)
          .map((h) => ({
            stage: stageRef(h),
            enteredAt: h.enteredAt.toISOString(),
            source: h.source,
            eventType: h.eventType,
            actorUserId: h.actorUserId,
            actorApiKeyId: h.actorApiKeyId,
            reason: h.reason,
          })),
      })),
    };
  }

  private async requireFunnel(ws: WorkspaceContext, id: string): Promise<FunnelWithStages> {
    const funnel = await this.funnels.findById(ws.id, id);
    if (!funnel) throw FunnelException.notFound();
    return funnel;
  }
}

function stageRef(r: StageRefRow): StageRef {
  return { id: r.stageId, key: r.stageKey, name: r.stageName, position: r.stagePosition, archived: r.stageArchived };
}

function toFunnelContactResponse(r: FunnelContactRow): FunnelContactResponse {
  return {
    contactId: r.contactId,
    email: r.email,
    phone: r.phone,
    firstName: r.firstName,
    lastName: r.lastName,
    firstChannel: r.firstChannel,
    stage: stageRef(r),
    enteredAt: r.enteredAt.toISOString(),
    funnelEnteredAt: r.funnelEnteredAt.toISOString(),
  };
}
