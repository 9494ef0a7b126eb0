import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { idempotencyKey } from '../common/idempotency.js';
import { ValidationException } from '../common/problem.js';
import { RateLimitService } from '../common/rate-limit.service.js';
import { AppConfig } from '../config/app-config.js';
import { PG_ERROR, pgErrorCode } from '../database/pg-errors.js';
import { DomainEventsService } from '../domain-events/domain-events.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { checkSubmission, HONEYPOT_FIELD, type FormDefinition } from './form-definition.js';
import { FormErrorCode, FormException } from './forms.exception.js';
import type { SubmissionResponse } from './forms.dto.js';
import type { SubmissionBody } from './submission-body.js';
import { ActiveFormsCache } from './active-forms.cache.js';
import type { PublicFormRow } from './forms.repository.js';
import { IDEMPOTENCY_KEY_TAKEN, newSubmission, type NewSubmission, type RecordedSubmission } from './submission.statement.js';
import { SubmissionsRepository } from './submissions.repository.js';

export interface RequestMeta {
  ip: string;
  userAgent: string | null;
  origin: string | null;
  idempotencyKey: string | null;
}

export interface SubmissionOutcome {
  status: 201 | 202;
  body: SubmissionResponse;
}

// A first submission of a new person can lose the insert race to a concurrent one, then finds it.
const MAX_UPSERT_ATTEMPTS = 3;

/**
 * A visitor becomes a contact: validated against the form's own fields, then ONE statement (its own
 * transaction) writes the contact (deduped), the submission, the consent ledger, the anonymous-id link
 * and the domain events; with double opt-in, a transaction adds the confirmation job. The answer never
 * says whether the person was already known.
 */
@Injectable()
export class SubmissionsService {
  private readonly ownOrigin: string;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly forms: ActiveFormsCache,
    private readonly submissions: SubmissionsRepository,
    private readonly jobs: JobsService,
    private readonly rateLimits: RateLimitService,
    private readonly domainEvents: DomainEventsService,
  ) {
    this.ownOrigin = new URL(config.PUBLIC_URL).origin;
  }

  async submit(formIdOrSlug: string, dto: SubmissionBody, meta: RequestMeta): Promise<SubmissionOutcome> {
    const form = await this.forms.get(formIdOrSlug);
    if (!form) throw FormException.notFound();
    const def = form.definition;
    // The hosted page (/f/…) is served from this API's own origin: always allowed.
    const foreign = meta.origin && meta.origin !== this.ownOrigin;
    if (foreign && def.allowedOrigins.length > 0 && !def.allowedOrigins.includes(meta.origin as string)) {
      throw new FormException(HttpStatus.FORBIDDEN, FormErrorCode.OriginNotAllowed, `This form does not accept submissions from ${meta.origin}.`);
    }
    this.rejectSpam(def, dto);
    idempotencyKey(meta.idempotencyKey); // checks the format: 400 before anything is counted or stored
    await this.rateLimits.consume(
      { key: `submit:ip:${form.id}:${meta.ip}`, max: this.config.SUBMISSION_LIMIT_PER_IP, windowSeconds: 60 },
      { key: `submit:form:${form.id}`, max: this.config.SUBMISSION_LIMIT_PER_FORM, windowSeconds: 60 },
    );
    const requestHash = meta.idempotencyKey ? hashRequest(dto) : null;
    if (meta.idempotencyKey) {
      const earlier = await this.submissions.findByIdempotencyKey(form.id, meta.idempotencyKey);
      if (earlier) return this.replay(form, earlier, requestHash);
    }
    const checked = checkSubmission(def, dto.fields, dto.consent);
    if (!checked.ok) throw new ValidationException(checked.errors, 'Some fields need attention.');

    const submission = newSubmission({
      form: { id: form.id, workspaceId: form.workspaceId, version: form.version, tags: def.tags, doubleOptIn: def.doubleOptIn },
      value: checked.value,
      context: dto.context ?? {},
      ip: meta.ip,
      userAgent: meta.userAgent,
      idempotencyKey: meta.idempotencyKey,
      requestHash,
    });
    const pending = submission.status === 202;
    let recorded: RecordedSubmission;
    try {
      recorded = await this.record(submission, pending);
    } catch (err) {
      if ((err as { code?: string }).code !== IDEMPOTENCY_KEY_TAKEN || !meta.idempotencyKey) throw err;
      // A concurrent request with the same key committed first; ours left nothing: answer as it did.
      const winner = await this.submissions.findByIdempotencyKey(form.id, meta.idempotencyKey);
      if (!winner) throw err;
      return this.replay(form, winner, requestHash);
    }
    this.domainEvents.wakeSoon(form.workspaceId);
    return this.answer(def, recorded.submissionId, pending ? 202 : 201);
  }

  /**
   * The submission statement: alone (one round trip, its own transaction), or with double opt-in in
   * a transaction with the confirmation job. Run again when a concurrent first submission of the same
   * person inserted the contact first (the next run finds it).
   */
  private async record(submission: NewSubmission, withConfirmation: boolean): Promise<RecordedSubmission> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!withConfirmation) return await this.submissions.record(this.ds, submission);
        return await this.ds.transaction(async (em) => {
          const recorded = await this.submissions.record(em, submission);
          await this.jobs.send('forms-send-confirmation', { submissionId: recorded.submissionId }, { manager: em });
          return recorded;
        });
      } catch (err) {
        if (pgErrorCode(err) !== PG_ERROR.uniqueViolation || attempt >= MAX_UPSERT_ATTEMPTS - 1) throw err;
      }
    }
  }

  private rejectSpam(def: FormDefinition, dto: SubmissionBody): void {
    const honeypot = dto[HONEYPOT_FIELD];
    const tooFast = dto.startedAt !== undefined && Date.now() - dto.startedAt < def.minFillSeconds * 1000;
    if ((honeypot && honeypot.trim() !== '') || tooFast) {
      throw new FormException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        FormErrorCode.SpamSuspected,
        'This submission looks automated and was not accepted. If you are a person, please wait a moment and try again.',
      );
    }
  }

  private replay(form: PublicFormRow, earlier: { id: string; status: number; requestHash: string | null }, requestHash: string | null): SubmissionOutcome {
    if (earlier.requestHash && requestHash && earlier.requestHash !== requestHash) {
      throw new FormException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        FormErrorCode.IdempotencyKeyReused,
        'This Idempotency-Key was already used for a different submission.',
      );
    }
    return this.answer(form.definition, earlier.id, earlier.status === 202 ? 202 : 201);
  }

  private answer(def: FormDefinition, submissionId: string, status: 201 | 202): SubmissionOutcome {
    return {
      status,
      body: {
        submissionId,
        status: status === 202 ? 'confirmation_pending' : 'received',
        message: status === 202 ? 'Almost done: check your inbox and confirm your email address.' : def.successMessage,
        redirectUrl: def.redirectUrl ?? null,
      },
    };
  }
}

function hashRequest(dto: SubmissionBody): string {
  return createHash('sha256').update(JSON.stringify({ f: dto.fields, c: dto.consent })).digest('base64url');
}
