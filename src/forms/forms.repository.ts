import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination.js';
import type { FormDefinition } from './form-definition.js';
import { FormEntity } from './form.entity.js';

const COLUMNS = `id, workspace_id AS "workspaceId", name, slug, status, version, definition,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface PublicFormRow {
  id: string;
  workspaceId: string;
  slug: string;
  version: number;
  definition: FormDefinition;
}

@Injectable()
export class FormsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Inserts a form and its version-1 snapshot; null when the slug is taken. */
  async insert(workspaceId: string, row: { name: string; slug: string; definition: FormDefinition }): Promise<FormEntity | null> {
    return this.ds.transaction(async (em) => {
      const rows = await em.query<FormEntity[]>(
        `INSERT INTO forms (workspace_id, name, slug, definition) VALUES ($1, $2, $3, $4)
         ON CONFLICT (slug) DO NOTHING RETURNING ${COLUMNS}`,
        [workspaceId, row.name, row.slug, row.definition],
      );
      if (!rows[0]) return null;
      await this.snapshot(em, rows[0]);
      return rows[0];
    });
  }

  async findById(workspaceId: string, id: string): Promise<FormEntity | null> {
    const rows = await this.ds.query<FormEntity[]>(`SELECT ${COLUMNS} FROM forms WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return rows[0] ?? null;
  }

  list(workspaceId: string, limit: number, after: Keyset | null, status?: string): Promise<FormEntity[]> {
    return this.ds.query<FormEntity[]>(
      `SELECT ${COLUMNS} FROM forms
        WHERE workspace_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [workspaceId, status ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
  }

  /**
   * Saves a new version: bumps the version and keeps a snapshot, so earlier submissions still point
   * at what they were shown. 'slug_taken' when the new slug belongs to another form.
   */
  async update(
    workspaceId: string,
    id: string,
    change: { name: string; slug: string; status: 'active' | 'archived'; definition: FormDefinition },
  ): Promise<FormEntity | null | 'slug_taken'> {
    try {
      return await this.ds.transaction(async (em) => {
        const [rows] = await em.query<[FormEntity[], number]>(
          `UPDATE forms SET name = $3, slug = $4, status = $5, definition = $6, version = version + 1, updated_at = now()
            WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
          [workspaceId, id, change.name, change.slug, change.status, change.definition],
        );
        if (!rows[0]) return null;
        await this.snapshot(em, rows[0]);
        return rows[0];
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return 'slug_taken';
      throw err;
    }
  }

  async hasSubmissions(workspaceId: string, id: string): Promise<boolean> {
    const rows = await this.ds.query<unknown[]>(`SELECT 1 FROM submissions WHERE workspace_id = $1 AND form_id = $2 LIMIT 1`, [workspaceId, id]);
    return rows.length > 0;
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const [, count] = await this.ds.query<[unknown, number]>(`DELETE FROM forms WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return count > 0;
  }

  /** Public lookup by id or slug: active forms only. */
  async findActive(idOrSlug: string): Promise<PublicFormRow | null> {
    const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrSlug);
    const rows = await this.ds.query<PublicFormRow[]>(
      `SELECT id, workspace_id AS "workspaceId", slug, version, definition FROM forms
        WHERE ${byId ? 'id = $1::uuid' : 'slug = $1'} AND status = 'active'`,
      [idOrSlug],
    );
    return rows[0] ?? null;
  }

  private async snapshot(em: EntityManager, form: FormEntity): Promise<void> {
    await em.query(`INSERT INTO form_versions (form_id, version, definition) VALUES ($1, $2, $3)`, [form.id, form.version, form.definition]);
  }
}
