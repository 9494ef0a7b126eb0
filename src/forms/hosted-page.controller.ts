import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/access.decorators.js';
import { AppConfig } from '../config/app-config.js';
import { toPublicFormResponse } from './forms.dto.js';
import { ActiveFormsCache } from './active-forms.cache.js';
import { renderHostedPage, renderNotFoundPage } from './hosted-page.js';

// A form id (uuid) or a slug; anything else is not worth a query.
const ID_OR_SLUG = /^[a-z0-9-]{1,64}$/i;

@ApiTags('public')
@Controller('f')
export class HostedPageController {
  constructor(
    private readonly config: AppConfig,
    private readonly forms: ActiveFormsCache,
  ) {}

  @Get(':formIdOrSlug')
  @Public()
  @ApiOperation({ summary: 'Hosted landing page of an active form ("link in bio"): server-rendered HTML' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'HTML page with the form' })
  @ApiNotFoundResponse({ description: 'Unknown or archived form: a small HTML page' })
  async page(@Param('formIdOrSlug') idOrSlug: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const form = ID_OR_SLUG.test(idOrSlug) ? await this.forms.get(idOrSlug) : null;
    void reply.header('content-type', 'text/html; charset=utf-8');
    if (!form) {
      void reply.status(404).header('cache-control', 'no-store');
      return renderNotFoundPage();
    }
    // Short: an edited or archived form shows up within a minute.
    void reply.header('cache-control', 'public, max-age=60');
    return renderHostedPage(toPublicFormResponse(form, this.config.PUBLIC_URL), this.config.PUBLIC_URL);
  }
}
