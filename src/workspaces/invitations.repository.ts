import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination.js';
import { InvitationEntity } from './workspace.entities.js';

@Injectable()
export class InvitationsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  insert(em: EntityManager, invitation: Omit<InvitationEntity, 'id' | 'createdAt' | 'acceptedAt' | 'revokedAt'>): Promise<InvitationEntity> {
    return em.getRepository(InvitationEntity).save(em.create(InvitationEntity, invitation));
  }

  findById(workspaceId: string, id: string): Promise<InvitationEntity | null> {
    return this.ds.getRepository(InvitationEntity).findOneBy({ workspaceId, id });
  }

  /** Any invitation by id, whatever the workspace: for the job that delivers it. */
  findForDelivery(id: string): Promise<InvitationEntity | null> {
    return this.ds.getRepository(InvitationEntity).findOneBy({ id });
  }

  findByTokenForUpdate(em: EntityManager, tokenHash: string): Promise<InvitationEntity | null> {
    return em.getRepository(InvitationEntity).findOne({ where: { tokenHash }, lock: { mode: 'pessimistic_write' } });
  }

  listPending(workspaceId: string, limit: number, after: Keyset | null): Promise<InvitationEntity[]> {
    const qb = this.ds
      .getRepository(InvitationEntity)
      .createQueryBuilder('i')
      .where('i.workspace_id = :workspaceId', { workspaceId })
      .andWhere('i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()')
      .orderBy('i.created_at', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .limit(limit);
    if (after) qb.andWhere('(i.created_at, i.id) < (:createdAt, :id)', after);
    return qb.getMany();
  }

  async markAccepted(em: EntityManager, id: string): Promise<void> {
    await em.getRepository(InvitationEntity).update({ id }, { acceptedAt: () => 'now()' });
  }

  /** Revokes a pending invitation; false when there was none to revoke. */
  async revoke(workspaceId: string, id: string): Promise<boolean> {
    const result = await this.ds
      .getRepository(InvitationEntity)
      .update({ workspaceId, id, acceptedAt: IsNull(), revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return (result.affected ?? 0) > 0;
  }
}
