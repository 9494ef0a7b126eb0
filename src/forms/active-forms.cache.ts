import { Injectable } from '@nestjs/common';
import { FormsRepository, type PublicFormRow } from './forms.repository.js';

// Another instance's edit or archive shows up here within this long; this instance's at once.
const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

/**
 * Active form definitions by id or slug, for the public hot paths (submission, definition, hosted
 * page, CORS): one query per form every few seconds instead of one per request. Unknown ids are
 * cached too, so a flood of made-up ids does not reach the database.
 */
@Injectable()
export class ActiveFormsCache {
  private readonly entries = new Map<string, { form: PublicFormRow | null; at: number }>();

  constructor(private readonly forms: FormsRepository) {}

  async get(idOrSlug: string): Promise<PublicFormRow | null> {
    const hit = this.entries.get(idOrSlug);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.form;
    const form = await this.forms.findActive(idOrSlug);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(idOrSlug, { form, at: Date.now() });
    return form;
  }

  /** After a change to a form: forget it under every key (id, old and new slug) and forget misses. */
  invalidate(formId: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.form === null || entry.form.id === formId) this.entries.delete(key);
    }
  }
}
