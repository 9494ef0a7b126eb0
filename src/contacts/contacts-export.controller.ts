import { Controller, Get, Header, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { EDITORS, Roles } from '../common/access.decorators.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentWorkspace } from '../common/current.decorators.js';
import { ContactsExportService } from './contacts-export.service.js';
import { ExportQueryDto } from './contacts-transfer.dto.js';

@ApiTags('contacts')
@Controller('v1/workspaces/:workspaceId/contacts')
export class ContactsExportController {
  constructor(private readonly exports: ContactsExportService) {}

  @Get('export')
  @Roles(EDITORS)
  // Personal data: never kept by a cache on the way.
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'Download every contact of the workspace, streamed as CSV or NDJSON',
    description:
      'Each contact with tags, attributes, subscription status, the latest consent record per channel (status, source, time, ' +
      'wording) and first/last-touch attribution (flattened into columns in CSV). CSV cells that a spreadsheet would run as a ' +
      'formula start with an apostrophe.',
  })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({ description: 'The file, as an attachment', schema: { type: 'string' } })
  export(@CurrentWorkspace() ws: WorkspaceContext, @Query() q: ExportQueryDto): Promise<StreamableFile> {
    return this.exports.export(ws, q.format);
  }
}
