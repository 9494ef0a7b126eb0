import { Body, Controller, Get, Headers, HttpCode, Injectable, Post, Query, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { ANY_MEMBER, EDITORS, Roles } from '../common/access.decorators.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { ActorUserId, CurrentWorkspace } from '../common/current.decorators.js';
import { PageQueryDto } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';
import { ContactsImportService } from './contacts-import.service.js';
import { CsvUpload, ImportPage, ImportQueryDto, ImportResponse } from './contacts-transfer.dto.js';

// An import file may be far larger than a JSON body; this limit applies to text/csv bodies only.
export const IMPORT_BODY_LIMIT_BYTES = 50 * 1024 * 1024;

/** Registers the text/csv body parser: the body stays one string, wrapped so that only it reaches an import. */
@Injectable()
export class CsvBodyParser implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    // A worker has no HTTP server.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || fastify.hasContentTypeParser('text/csv')) return;
    fastify.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT_BYTES }, (_req, body, done) => {
      done(null, new CsvUpload(typeof body === 'string' ? body : body.toString('utf8')));
    });
  }
}

@ApiTags('contacts')
@Controller('v1/workspaces/:workspaceId/contacts')
export class ContactsImportController {
  constructor(private readonly imports: ContactsImportService) {}

  @Post('import')
  @HttpCode(202)
  @Roles(EDITORS)
  @ApiOperation({
    summary: 'Import contacts from a CSV file (async; poll the import for progress and row errors)',
    description:
      'The body is the file, as text/csv (UTF-8, up to 50 MB), with a header row. Recognised columns (any case): email, phone, ' +
      'first_name, last_name, tags (separated by ;), email_consent and sms_consent (yes/true/1 subscribes). Any other column ' +
      'becomes a custom attribute. Rows are deduped and merged like form submissions; erased people are skipped.',
  })
  @ApiConsumes('text/csv')
  @ApiBody({ schema: { type: 'string', example: 'email,first_name,email_consent\r\nada@example.com,Ada,yes\r\n' } })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key, same import: a retried upload is not imported twice' })
  @ApiAcceptedResponse({ type: ImportResponse, description: 'Queued: the import and its job are committed' })
  @ApiBadRequestResponse({ description: 'No header, no email/phone column, no rows, malformed CSV, or consentBasis missing' })
  @ApiPayloadTooLargeResponse({ description: 'The file is over 50 MB' })
  @ApiUnsupportedMediaTypeResponse({ description: 'The body is not text/csv' })
  start(
    @CurrentWorkspace() ws: WorkspaceContext,
    @ActorUserId() actorUserId: string | null,
    @Body() body: unknown,
    @Query() query: ImportQueryDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<ImportResponse> {
    return this.imports.start(ws, { body, query, actorUserId, idempotencyKey: idempotencyKey ?? null });
  }

  @Get('imports')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'Imports of this workspace, newest first' })
  @ApiOkResponse({ type: ImportPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @Query() page: PageQueryDto): Promise<ImportPage> {
    return this.imports.list(ws, page.limit, page.cursor);
  }

  @Get('imports/:importId')
  @Roles(ANY_MEMBER)
  @ApiOperation({ summary: 'Status, counts, progress and row errors of an import' })
  @ApiOkResponse({ type: ImportResponse })
  @ApiNotFoundResponse({ description: 'No such import in this workspace' })
  get(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('importId') id: string): Promise<ImportResponse> {
    return this.imports.get(ws, id);
  }
}
