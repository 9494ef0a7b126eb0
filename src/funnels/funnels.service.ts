import { HttpStatus, Injectable } from '@nestjs/common';
import type { WorkspaceContext } from '../common/auth-context.js';
import { decodeCursor, toPage, type Page } from '../common/pagination.js';
import { ValidationException, type FieldError } from '../common/problem.js';
import { FormsRepository } from '../forms/forms.repository.js';
import { FunnelRulesCache } from './funnel-rules.cache.js';
import { stageProblems, type StageRule } from './funnel-rules.js';
import type { FunnelStatus, FunnelWithStages, StageInput } from './funnel.types.js';
import { toFunnelResponse, type CreateFunnelDto, type FunnelResponse, type FunnelStageDto, type UpdateFunnelDto } from './funnels.dto.js';
import { FunnelErrorCode, FunnelException } from './funnels.exception.js';
import { FunnelsRepository } from './funnels.repository.js';

@Injectable()
export class FunnelsService {
  constructor(
    private readonly funnels: FunnelsRepository,
    private readonly forms: FormsRepository,
    private readonly rules: FunnelRulesCache,
  ) {}

  async create(ws: WorkspaceContext, dto: CreateFunnelDto): Promise<FunnelResponse> {
    const stages = await this.stagesFrom(ws, dto.stages);
    const funnel = await this.funnels.insert(
      ws.id,
      { name: dto.name, description: dto.description ?? null, status: dto.status ?? 'active', skippedStagesCount: dto.skippedStagesCount ?? true },
      stages,
    );
    this.rules.invalidate(ws.id);
    return toFunnelResponse(funnel);
  }

  async list(ws: WorkspaceContext, limit: number, cursor?: string, status?: FunnelStatus): Promise<Page<FunnelResponse>> {
    const rows = await this.funnels.list(ws.id, limit + 1, decodeCursor(cursor), status);
    return toPage(rows, limit, toFunnelResponse);
  }

  async get(ws: WorkspaceContext, id: string): Promise<FunnelResponse> {
    return toFunnelResponse(await this.require(ws, id));
  }

  /** Every change is a new version; stage history is never rewritten (removed stages are archived). */
  async update(ws: WorkspaceContext, id: string, dto: UpdateFunnelDto): Promise<FunnelResponse> {
    const current = await this.require(ws, id);
    const stages = dto.stages ? await this.stagesFrom(ws, dto.stages) : undefined;
    const updated = await this.funnels.update(
      ws.id,
      id,
      {
        name: dto.name ?? current.name,
        description: dto.description ?? current.description,
        status: dto.status ?? current.status,
        skippedStagesCount: dto.skippedStagesCount ?? current.skippedStagesCount,
      },
      stages,
    );
    if (!updated) throw FunnelException.notFound();
    this.rules.invalidate(ws.id);
    return toFunnelResponse(updated);
  }

  /** Deletes a funnel nobody entered yet; one with history is archived instead, keeping it. */
  async delete(ws: WorkspaceContext, id: string): Promise<void> {
    await this.require(ws, id);
    if (await this.funnels.hasHistory(ws.id, id)) {
      throw new FunnelException(
        HttpStatus.CONFLICT,
        FunnelErrorCode.HasHistory,
        'Contacts have entered this funnel: archive it (PATCH status "archived") to keep their history.',
      );
    }
    await this.funnels.delete(ws.id, id);
    this.rules.invalidate(ws.id);
  }

  private async require(ws: WorkspaceContext, id: string): Promise<FunnelWithStages> {
    const funnel = await this.funnels.findById(ws.id, id);
    if (!funnel) throw FunnelException.notFound();
    return funnel;
  }

  /** Checks what field validation cannot (duplicates, filters that never match, forms of this workspace). */
  private async stagesFrom(ws: WorkspaceContext, dtos: FunnelStageDto[]): Promise<StageInput[]> {
    const stages: StageInput[] = dtos.map((s) => ({ key: s.key, name: s.name, position: s.position, rules: (s.rules ?? []).map(plainRule) }));
    const problems: FieldError[] = stageProblems(stages);
    const formIds = new Map<string, string>();
    stages.forEach((s, i) => s.rules.forEach((r, j) => r.filter?.formId && formIds.set(r.filter.formId, `stages.${i}.rules.${j}.filter.formId`)));
    for (const [formId, field] of formIds) {
      if (!(await this.forms.findById(ws.id, formId))) problems.push({ field, message: 'no form with this id in this workspace' });
    }
    if (problems.length > 0) throw new ValidationException(problems, 'The funnel definition is not usable.');
    return stages;
  }
}

// Plain JSON, without DTO class instances or absent keys, as stored in funnel_stages.rules.
function plainRule(r: StageRule): StageRule {
  return JSON.parse(JSON.stringify({ event: r.event, filter: r.filter })) as StageRule;
}
