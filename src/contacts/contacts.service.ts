import { Injectable } from '@nestjs/common';
import type { WorkspaceContext } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
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
  constructor(private readonly contacts: ContactsRepository) {}

  async list(ws: WorkspaceContext, q: ContactListQuery): Promise<Page<ContactResponse>> {
    const rows = await this.contacts.list(ws.id, q, q.limit + 1, decodeCursor(q.cursor));
    return toPage(rows, q.limit, toContactResponse);
  }

  async get(ws: WorkspaceContext, id: string): Promise<ContactResponse> {
    return toContactResponse(await this.require(ws, id));
  }

  async update(ws: WorkspaceContext, id: string, dto: UpdateContactDto): Promise<ContactResponse> {
    const updated = await this.contacts.update(ws.id, id, dto);
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
