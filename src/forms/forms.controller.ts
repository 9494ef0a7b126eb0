import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ANY_MEMBER, EDITORS, Roles } from '../common/access.decorators.js';
import { Idempotent } from '../common/idempotency.interceptor.js';
import type { WorkspaceContext } from '../common/auth-context.js';
import { CurrentWorkspace } from '../common/current.decorators.js';
import { PageQueryDto } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';
import { CreateFormDto, FormPage, FormResponse, UpdateFormDto } from './forms.dto.js';
import { FormsService } from './forms.service.js';

class FormListQuery extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'archived'] })
  @IsOptional()
  @IsIn(['active', 'archived'])
  status?: 'active' | 'archived';
}

@ApiTags('forms')
@Controller('v1/workspaces/:workspaceId/forms')
export class FormsController {
  constructor(private readonly forms: FormsService) {}

  @Post()
  @Roles(EDITORS)
  @Idempotent()
  @ApiOperation({ summary: 'Create a form (version 1)' })
  @ApiCreatedResponse({ type: FormResponse })
  create(@CurrentWorkspace() ws: WorkspaceContext, @Body() dto: CreateFormDto): Promise<FormResponse> {
    return this.forms.create(ws, dto);
  }

  @Get()
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: FormPage })
  list(@CurrentWorkspace() ws: WorkspaceContext, @Query() q: FormListQuery): Promise<FormPage> {
    return this.forms.list(ws, q.limit, q.cursor, q.status);
  }

  @Get(':formId')
  @Roles(ANY_MEMBER)
  @ApiOkResponse({ type: FormResponse })
  get(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('formId') id: string): Promise<FormResponse> {
    return this.forms.get(ws, id);
  }

  @Patch(':formId')
  @Roles(EDITORS)
  @ApiOperation({ summary: 'Change a form; every change is a new version, archived forms stop accepting submissions' })
  @ApiOkResponse({ type: FormResponse })
  update(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('formId') id: string, @Body() dto: UpdateFormDto): Promise<FormResponse> {
    return this.forms.update(ws, id, dto);
  }

  @Delete(':formId')
  @HttpCode(204)
  @Roles(EDITORS)
  @ApiOperation({ summary: 'Delete a form without submissions (409 otherwise: archive it)' })
  @ApiNoContentResponse()
  delete(@CurrentWorkspace() ws: WorkspaceContext, @UuidParam('formId') id: string): Promise<void> {
    return this.forms.delete(ws, id);
  }
}
