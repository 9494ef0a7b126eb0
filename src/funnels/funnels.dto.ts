import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '../common/pagination.js';
import { BUILT_IN_RULE_EVENTS, RULE_EVENT_PATTERN, type PropertyValue, type RuleFilter, type StageRule } from './funnel-rules.js';
import { FUNNEL_STATUSES, type FunnelStatus, type FunnelWithStages, type HistorySource, type StageRow } from './funnel.types.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const KEY = /^[a-z][a-z0-9_]{0,39}$/;
const TAG = /^[\w:.-]{1,50}$/u;

export const MAX_STAGES = 30;
export const MAX_RULES = 20;

/** A JSON scalar a property is compared with (strictly: 10 and "10" differ). */
const IsPropertyValue = () =>
  ValidateBy({
    name: 'isPropertyValue',
    validator: {
      validate: (v: unknown) => (typeof v === 'string' && v.length <= 500) || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)),
      defaultMessage: () => 'equals must be a string (at most 500 characters), a number or a boolean',
    },
  });

export class PropertyFilterDto {
  @ApiProperty({ example: 'plan', description: 'Property name; a dotted name (a.b) reaches into nested objects' })
  @Matches(/^[\w.:-]{1,100}$/u, { message: 'name must be 1-100 letters, digits or _ . : -' })
  name: string;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }], example: 'pro' })
  @IsPropertyValue()
  equals: PropertyValue;
}

export class RuleFilterDto implements RuleFilter {
  @ApiPropertyOptional({ format: 'uuid', description: 'The event\'s formId (form.submitted, contact.confirmed, tag.added from a form, form_view)' })
  @IsOptional()
  @IsUUID()
  formId?: string;

  @ApiPropertyOptional({ example: 'vip', description: 'The tag added (tag.added only)' })
  @IsOptional()
  @Matches(TAG, { message: 'tag must be 1-50 letters, digits, _ : . or -' })
  tag?: string;

  @ApiPropertyOptional({ example: '/pricing', description: 'Part of the event\'s url, case-insensitive (page_view, form.submitted, email.clicked, custom events)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  urlContains?: string;

  @ApiPropertyOptional({ type: PropertyFilterDto, description: 'A property of the event equals a value' })
  @IsOptional()
  @ValidateNested()
  @Type(() => PropertyFilterDto)
  property?: PropertyFilterDto;
}

export class StageRuleDto implements StageRule {
  @ApiProperty({
    example: 'form.submitted',
    description: `One of ${BUILT_IN_RULE_EVENTS.join(', ')}, or the name of a custom tracked event`,
  })
  @Matches(RULE_EVENT_PATTERN, { message: 'event must be 1-64 lowercase letters, digits or _ . : -, starting with a letter' })
  event: string;

  @ApiPropertyOptional({ type: RuleFilterDto, description: 'Every condition given must hold' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RuleFilterDto)
  filter?: RuleFilterDto;
}

export class FunnelStageDto {
  @ApiProperty({ example: 'lead', description: 'Identifies the stage across edits: the same key keeps the same stage and its history' })
  @Matches(KEY, { message: 'key must be 1-40 lowercase letters, digits or _, starting with a letter' })
  key: string;

  @ApiProperty({ maxLength: 100, example: 'Lead' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ minimum: 0, maximum: 100000, example: 10, description: 'Order of the stage; contacts only move to higher positions by rules' })
  @IsInt()
  @Min(0)
  @Max(100000)
  position: number;

  @ApiPropertyOptional({ type: [StageRuleDto], maxItems: MAX_RULES, description: 'A contact enters the stage when any rule matches; none: manual moves only' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RULES)
  @ValidateNested({ each: true })
  @Type(() => StageRuleDto)
  rules: StageRuleDto[] = [];
}

const SKIPPED_STAGES_DOC =
  'When true (default), a contact who reaches a later stage directly also enters the stages in between (history source "skip", ' +
  'at the same time): they count as entered in the report and their time in them is zero. When false, skipped stages are not entered.';

/** Everything a funnel says; all optional so PATCH can send only what changes. */
export class FunnelSettingsDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ enum: FUNNEL_STATUSES, description: 'Only active funnels move contacts by rules; events that arrive while paused are not replayed' })
  @IsOptional()
  @IsIn(FUNNEL_STATUSES)
  status?: FunnelStatus;

  @ApiPropertyOptional({ default: true, description: SKIPPED_STAGES_DOC })
  @IsOptional()
  @IsBoolean()
  skippedStagesCount?: boolean;

  @ApiPropertyOptional({
    type: [FunnelStageDto],
    maxItems: MAX_STAGES,
    description: 'The whole stage list. A stage whose key is missing is archived (its history stays); a key that comes back revives it.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STAGES)
  @ValidateNested({ each: true })
  @Type(() => FunnelStageDto)
  stages?: FunnelStageDto[];
}

export class CreateFunnelDto extends FunnelSettingsDto {
  @ApiProperty({ maxLength: 200, example: 'Instagram to customer' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  declare name: string;

  @ApiProperty({ type: [FunnelStageDto], minItems: 1, maxItems: MAX_STAGES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STAGES)
  @ValidateNested({ each: true })
  @Type(() => FunnelStageDto)
  declare stages: FunnelStageDto[];
}

export class UpdateFunnelDto extends FunnelSettingsDto {}

export class FunnelListQuery extends PageQueryDto {
  @ApiPropertyOptional({ enum: FUNNEL_STATUSES })
  @IsOptional()
  @IsIn(FUNNEL_STATUSES)
  status?: FunnelStatus;
}

// ---- responses

export class PropertyFilterResponse {
  @ApiProperty() name: string;
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] }) equals: PropertyValue;
}

export class RuleFilterResponse {
  @ApiPropertyOptional({ format: 'uuid' }) formId?: string;
  @ApiPropertyOptional() tag?: string;
  @ApiPropertyOptional() urlContains?: string;
  @ApiPropertyOptional({ type: PropertyFilterResponse }) property?: PropertyFilterResponse;
}

export class StageRuleResponse {
  @ApiProperty() event: string;
  @ApiPropertyOptional({ type: RuleFilterResponse }) filter?: RuleFilterResponse;
}

export class FunnelStageResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() position: number;
  @ApiProperty({ type: [StageRuleResponse] }) rules: StageRule[];
}

export class ArchivedStageResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() position: number;
  @ApiProperty() archivedAt: string;
}

export class FunnelResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiProperty({ enum: FUNNEL_STATUSES }) status: FunnelStatus;
  @ApiProperty({ description: SKIPPED_STAGES_DOC }) skippedStagesCount: boolean;
  @ApiProperty({ description: 'Bumped on every change' }) version: number;
  @ApiProperty({ type: [FunnelStageResponse], description: 'Active stages by position' }) stages: FunnelStageResponse[];
  @ApiProperty({ type: [ArchivedStageResponse], description: 'Stages removed by edits; their history is kept' }) archivedStages: ArchivedStageResponse[];
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class FunnelPage {
  @ApiProperty({ type: [FunnelResponse] }) data: FunnelResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export function toFunnelResponse(f: FunnelWithStages): FunnelResponse {
  const active = f.stages.filter((s) => s.archivedAt === null);
  const archived = f.stages.filter((s): s is StageRow & { archivedAt: Date } => s.archivedAt !== null);
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    status: f.status,
    skippedStagesCount: f.skippedStagesCount,
    version: f.version,
    stages: active.map((s) => ({ id: s.id, key: s.key, name: s.name, position: s.position, rules: s.rules })),
    archivedStages: archived.map((s) => ({ id: s.id, key: s.key, name: s.name, position: s.position, archivedAt: s.archivedAt.toISOString() })),
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

// ---- contacts in a funnel, manual moves

export class FunnelContactsQuery extends PageQueryDto {
  @ApiPropertyOptional({ example: 'lead', description: 'Only contacts whose current stage has this key (archived stages included)' })
  @IsOptional()
  @Matches(KEY, { message: 'stage must be a stage key' })
  stage?: string;
}

export class MoveContactDto {
  @ApiProperty({ example: 'customer', description: 'Key of an active stage; any direction' })
  @Matches(KEY, { message: 'stageKey must be a stage key' })
  stageKey: string;

  @ApiProperty({ maxLength: 500, example: 'Paid by bank transfer' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason: string;
}

export class StageRef {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() position: number;
  @ApiProperty({ description: 'The stage was removed from the funnel after the contact entered it' }) archived: boolean;
}

export class FunnelContactResponse {
  @ApiProperty({ format: 'uuid' }) contactId: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true }) phone: string | null;
  @ApiProperty({ type: String, nullable: true }) firstName: string | null;
  @ApiProperty({ type: String, nullable: true }) lastName: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'First-touch channel' }) firstChannel: string | null;
  @ApiProperty({ type: StageRef }) stage: StageRef;
  @ApiProperty({ description: 'When the contact entered the current stage' }) enteredAt: string;
  @ApiProperty({ description: 'When the contact entered the funnel' }) funnelEnteredAt: string;
}

export class FunnelContactPage {
  @ApiProperty({ type: [FunnelContactResponse] }) data: FunnelContactResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class StageEntryResponse {
  @ApiProperty({ type: StageRef }) stage: StageRef;
  @ApiProperty() enteredAt: string;
  @ApiProperty({ enum: ['rule', 'skip', 'manual'] }) source: HistorySource;
  @ApiProperty({ type: String, nullable: true, description: 'The domain event behind a rule or skip entry' }) eventType: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) actorUserId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) actorApiKeyId: string | null;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
}

export class ContactFunnelResponse {
  @ApiProperty({ format: 'uuid' }) funnelId: string;
  @ApiProperty() funnelName: string;
  @ApiProperty({ type: StageRef }) stage: StageRef;
  @ApiProperty() enteredAt: string;
  @ApiProperty() funnelEnteredAt: string;
  @ApiProperty({ type: [StageEntryResponse], description: 'Every stage entry, oldest first' }) history: StageEntryResponse[];
}

export class ContactFunnelList {
  @ApiProperty({ type: [ContactFunnelResponse] }) data: ContactFunnelResponse[];
}
