import { HttpStatus, Injectable } from '@nestjs/common';
import type { WorkspaceContext } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { ValidationException, type FieldError } from '../common/problem.js';
import { AppConfig } from '../config/app-config.js';
import { BUILT_IN_TYPES, type FormDefinition } from './form-definition.js';
import type { FormEntity } from './form.entity.js';
import { FormErrorCode, FormException } from './forms.exception.js';
import { toFormResponse, type CreateFormDto, type FormResponse, type FormSettingsDto, type UpdateFormDto } from './forms.dto.js';
import { ActiveFormsCache } from './active-forms.cache.js';
import { FormsRepository } from './forms.repository.js';

const DEFAULTS = { successMessage: 'Thanks! You are on the list.', submitLabel: 'Sign up', minFillSeconds: 2 };

/** Semantic rules a form definition must meet beyond field-by-field validation. */
export function definitionProblems(def: FormDefinition): FieldError[] {
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  def.fields.forEach((f, i) => {
    const at = `fields.${i}`;
    if (seen.has(f.key)) problems.push({ field: `${at}.key`, message: `duplicate field key "${f.key}"` });
    seen.add(f.key);
    if (BUILT_IN_TYPES.includes(f.type) && f.key !== f.type) problems.push({ field: `${at}.key`, message: `a ${f.type} field must have key "${f.type}"` });
    if (!BUILT_IN_TYPES.includes(f.type) && (BUILT_IN_TYPES as readonly string[]).includes(f.key)) {
      problems.push({ field: `${at}.key`, message: `"${f.key}" is reserved for the ${f.key} field type` });
    }
    if (f.type === 'select' && !f.options?.length) problems.push({ field: `${at}.options`, message: 'a select field needs options' });
    if (f.minLength !== undefined && f.maxLength !== undefined && f.minLength > f.maxLength) {
      problems.push({ field: `${at}.minLength`, message: 'minLength is greater than maxLength' });
    }
    if (f.pattern !== undefined) {
      try {
        new RegExp(f.pattern, 'u');
      } catch {
        problems.push({ field: `${at}.pattern`, message: 'not a valid regular expression' });
      }
    }
  });
  if (!def.fields.some((f) => f.type === 'email' || f.type === 'phone')) {
    problems.push({ field: 'fields', message: 'a form needs an email or a phone field: contacts are reached through one' });
  }
  const consentKeys = new Set<string>();
  def.consents.forEach((c, i) => {
    if (consentKeys.has(c.key)) problems.push({ field: `consents.${i}.key`, message: `duplicate consent key "${c.key}"` });
    consentKeys.add(c.key);
    const needed = c.channel === 'email' ? 'email' : 'phone';
    if (!def.fields.some((f) => f.type === needed)) problems.push({ field: `consents.${i}.channel`, message: `${c.channel} consent needs a ${needed} field` });
  });
  return problems;
}

@Injectable()
export class FormsService {
  constructor(
    private readonly config: AppConfig,
    private readonly forms: FormsRepository,
    private readonly activeForms: ActiveFormsCache,
  ) {}

  async create(ws: WorkspaceContext, dto: CreateFormDto): Promise<FormResponse> {
    const definition = this.definitionFrom(dto, null);
    const slug = dto.slug ?? `${slugify(dto.name)}-${Math.random().toString(36).slice(2, 8)}`;
    const form = await this.forms.insert(ws.id, { name: dto.name, slug, definition });
    if (!form) throw slugTaken(slug);
    this.activeForms.invalidate(form.id);
    return toFormResponse(form, this.config.PUBLIC_URL);
  }

  async list(ws: WorkspaceContext, limit: number, cursor?: string, status?: string): Promise<Page<FormResponse>> {
    const rows = await this.forms.list(ws.id, limit + 1, decodeCursor(cursor), status);
    return toPage(rows, limit, (f) => toFormResponse(f, this.config.PUBLIC_URL));
  }

  async get(ws: WorkspaceContext, id: string): Promise<FormResponse> {
    return toFormResponse(await this.require(ws, id), this.config.PUBLIC_URL);
  }

  async update(ws: WorkspaceContext, id: string, dto: UpdateFormDto): Promise<FormResponse> {
    const current = await this.require(ws, id);
    const definition = this.definitionFrom(dto, current.definition);
    const updated = await this.forms.update(ws.id, id, {
      name: dto.name ?? current.name,
      slug: dto.slug ?? current.slug,
      status: dto.status ?? current.status,
      definition,
    });
    if (updated === 'slug_taken') throw slugTaken(dto.slug ?? current.slug);
    if (!updated) throw FormException.notFound();
    this.activeForms.invalidate(id);
    return toFormResponse(updated, this.config.PUBLIC_URL);
  }

  /** Deletes a form nobody submitted yet; one with submissions is archived instead, keeping its history. */
  async delete(ws: WorkspaceContext, id: string): Promise<void> {
    await this.require(ws, id);
    if (await this.forms.hasSubmissions(ws.id, id)) {
      throw new FormException(
        HttpStatus.CONFLICT,
        FormErrorCode.HasSubmissions,
        'This form has submissions: archive it (PATCH status "archived") to keep their history.',
      );
    }
    await this.forms.delete(ws.id, id);
    this.activeForms.invalidate(id);
  }

  private async require(ws: WorkspaceContext, id: string): Promise<FormEntity> {
    const form = await this.forms.findById(ws.id, id);
    if (!form) throw FormException.notFound();
    return form;
  }

  private definitionFrom(dto: FormSettingsDto, current: FormDefinition | null): FormDefinition {
    const def: FormDefinition = {
      title: dto.title ?? current?.title ?? dto.name ?? '',
      description: dto.description ?? current?.description,
      fields: (dto.fields ?? current?.fields ?? []).map((f) => ({ ...f })),
      consents: (dto.consents ?? current?.consents ?? []).map((c) => ({ ...c })),
      doubleOptIn: dto.doubleOptIn ?? current?.doubleOptIn ?? false,
      allowedOrigins: dto.allowedOrigins ?? current?.allowedOrigins ?? [],
      successMessage: dto.successMessage ?? current?.successMessage ?? DEFAULTS.successMessage,
      redirectUrl: dto.redirectUrl ?? current?.redirectUrl,
      tags: [...new Set(dto.tags ?? current?.tags ?? [])],
      defaultCountry: dto.defaultCountry ?? current?.defaultCountry,
      submitLabel: dto.submitLabel ?? current?.submitLabel ?? DEFAULTS.submitLabel,
      minFillSeconds: dto.minFillSeconds ?? current?.minFillSeconds ?? DEFAULTS.minFillSeconds,
    };
    const problems = definitionProblems(def);
    if (problems.length > 0) throw new ValidationException(problems, 'The form definition is not usable.');
    return JSON.parse(JSON.stringify(def)) as FormDefinition;
  }
}

function slugify(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'form'
  );
}

function slugTaken(slug: string): FormException {
  return new FormException(HttpStatus.CONFLICT, FormErrorCode.SlugTaken, `The slug "${slug}" is taken; choose another.`);
}
