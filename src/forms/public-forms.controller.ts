import { Body, Controller, Get, Headers, Ip, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/access.decorators.js';
import { AppConfig } from '../config/app-config.js';
import { ConfirmationsService } from './confirmations.service.js';
import { PublicFormResponse, SubmissionDto, SubmissionResponse, toPublicFormResponse } from './forms.dto.js';
import { FormException } from './forms.exception.js';
import { ActiveFormsCache } from './active-forms.cache.js';
import { escapeText } from './html.js';
import { parseSubmissionBody } from './submission-body.js';
import { SubmissionsService } from './submissions.service.js';

@ApiTags('public')
@Controller('v1/public')
export class PublicFormsController {
  constructor(
    private readonly config: AppConfig,
    private readonly forms: ActiveFormsCache,
    private readonly submissions: SubmissionsService,
    private readonly confirmations: ConfirmationsService,
  ) {}

  @Get('forms/:formId')
  @Public()
  @ApiOperation({ summary: 'What a page needs to render the form (active forms only; by id or slug)' })
  @ApiOkResponse({ type: PublicFormResponse })
  async get(@Param('formId') formId: string): Promise<PublicFormResponse> {
    const form = await this.forms.get(formId);
    if (!form) throw FormException.notFound();
    return toPublicFormResponse(form, this.config.PUBLIC_URL);
  }

  @Post('forms/:formId/submissions')
  @Public()
  @ApiOperation({ summary: 'Submit a form: 201, or 202 when an email confirmation is pending. Durable before it answers.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key, same answer, one submission' })
  // Checked by parseSubmissionBody (the same rules as SubmissionDto, which documents them) rather than
  // by the global ValidationPipe: this is the busiest public route, and class-validator its costliest step.
  @ApiBody({ type: SubmissionDto })
  @ApiCreatedResponse({ type: SubmissionResponse })
  @ApiAcceptedResponse({ type: SubmissionResponse })
  @ApiTooManyRequestsResponse({ description: 'Too many submissions from this IP or to this form (Retry-After)' })
  async submit(
    @Param('formId') formId: string,
    @Body() body: unknown,
    @Ip() ip: string,
    @Headers('user-agent') userAgent: string | undefined,
    @Headers('origin') origin: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubmissionResponse> {
    const outcome = await this.submissions.submit(formId, parseSubmissionBody(body), {
      ip,
      userAgent: userAgent?.slice(0, 500) ?? null,
      origin: origin ?? null,
      idempotencyKey: idempotencyKey ?? null,
    });
    void reply.status(outcome.status);
    return outcome.body;
  }

  @Get('confirm/:token')
  @Public()
  @ApiOperation({ summary: 'Double opt-in: the link from the confirmation email. Answers a small HTML page.' })
  @ApiOkResponse({ description: 'Confirmed (HTML)' })
  async confirm(
    @Param('token') token: string,
    @Ip() ip: string,
    @Headers('user-agent') userAgent: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    await this.confirmations.confirm(token, { ip, userAgent: userAgent?.slice(0, 500) ?? null });
    void reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
    return page('Subscription confirmed', 'Thank you: your email address is confirmed. You can close this page.');
  }
}

function page(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeText(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"><h1>${escapeText(title)}</h1><p>${escapeText(text)}</p></body></html>`;
}
