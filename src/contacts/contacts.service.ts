import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { WorkspaceContext } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { WorkspaceException } from '../workspaces/workspace.exception.js';
import type { ContactRow } from './contact.types.js';
import { ContactsRepository } from './contacts.repository.js';
import {
  toContactResponse,
  type ConsentList,
  type ContactListQuery,
  type ContactResponse,
  type Timeline,
  type UpdateContactDto,
} from './contacts.dto.js';
import { identityHash } from './identity-hash.js';

@Injectable()
export class ContactsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly contacts: ContactsRepository,
    private readonly domainEvents: DomainEventsService,
  ) {}

  async list(ws: WorkspaceContext, q: ContactListQuery): Promise<Page<ContactResponse>> {
    const rows = await this.contacts.list(ws.id, q, q.limit + 1, decodeCursor(q.cursor));
    return toPage(rows, q.limit, toContactResponse);
  }

  async get(ws: WorkspaceContext, id: string): Promise<ContactResponse> {
    return toContactResponse(await this.require(ws, id));
  }

  async update(ws: WorkspaceContext, id: string, dto: UpdateContactDto): Promise<ContactResponse> {
    // A PATCH has no id of its own to dedupe on: each one is its own source.
    const source = randomUUID();
    const updated = await this.ds.transaction(async (em) => {
      const row = await this.contacts.update(em, ws.id, id, dto);
      if (!row) return null;
      await this.domainEvents.record(
        em,
        ws.id,
        row.addedTags.map((tag) => ({ type: 'tag.added', contactId: id, properties: { tag, source: 'api' }, dedupeKey: `contact-patch:${source}:tag:${tag}` })),
      );
      return row;
    });
    if (!updated) throw notFound();
    return toContactResponse(updated);
  }

  async erase(ws: WorkspaceContext, id: string): Promise<void> {
    const contact = await this.require(ws, id);
    const hashes = [contact.email, contact.phone].filter((v): v is string => v !== null).map(identityHash);
    if (!(await this.contacts.erase(ws.id, id, hashes))) throw notFound();
  }

  async consents(ws: WorkspaceContext, id: string): Promise<ConsentList> {
    await this.require(ws, id);
    const rows = await this.contacts.consents(ws.id, id);
    return { data: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })) };
  }

  async timeline(ws: WorkspaceContext, id: string, before: string | undefined, limit: number): Promise<Timeline> {
    await this.require(ws, id);
    const rows = await this.contacts.timeline(ws.id, id, before ?? null, limit);
    const last = rows[rows.length - 1];
    return {
      data: rows.map((r) => ({ kind: r.kind, at: r.at.toISOString(), summary: r.summary, data: r.data })),
      nextBefore: rows.length === limit && last ? last.at.toISOString() : null,
    };
  }

  private async require(ws: WorkspaceContext, id: string): Promise<ContactRow> {
    const contact = await this.contacts.findById(ws.id, id);
    if (!contact) throw notFound();
    return contact;
  }
}

function notFound(): WorkspaceException {
  return WorkspaceException.notFound('Contact');
}
