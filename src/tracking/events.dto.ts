import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDateString, IsObject, IsOptional, IsUUID, Matches, ValidateNested } from 'class-validator';
import { SubmissionContextDto } from '../forms/forms.dto.js';

export const MAX_BATCH = 100;

export class TrackedEventDto {
  @ApiProperty({ example: 'page_view', description: 'page_view, form_view, or your own name' })
  @Matches(/^[a-z][a-z0-9_.:-]{0,63}$/, { message: 'type must be 1-64 lowercase letters, digits or _ . : -, starting with a letter' })
  type: string;

  @ApiPropertyOptional({ description: 'The visitor\'s anonymous id (from the embed)' })
  @IsOptional()
  @Matches(/^[\w-]{8,64}$/, { message: 'anonymousId must be 8-64 letters, digits, _ or -' })
  anonymousId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only with a secret key: a known contact' })
  @IsOptional()
  @IsUUID()
  contactId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;

  @ApiPropertyOptional({ type: SubmissionContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => SubmissionContextDto)
  context?: SubmissionContextDto;

  @ApiPropertyOptional({ description: 'When it happened (ISO 8601); default: when received' })
  @IsOptional()
  @IsDateString()
  occurredAt?: string;
}

export class EventBatchDto {
  @ApiProperty({ type: [TrackedEventDto], maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  @ValidateNested({ each: true })
  @Type(() => TrackedEventDto)
  events: TrackedEventDto[];
}

export class EventBatchResponse {
  @ApiProperty() accepted: number;
}
