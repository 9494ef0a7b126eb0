import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDateString, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../common/pagination.js';
import { CHANNELS, type Channel, type Touch } from '../tracking/attribution.js';
import type { ContactRow, SubscriptionStatus } from './contact.types.js';

const STATUSES = ['none', 'pending', 'subscribed', 'unsubscribed'] as const;
const TAG = /^[\w:.-]{1,50}$/u;

export class ContactListQuery extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Contacts having this tag' })
  @IsOptional()
  @Matches(TAG, { message: 'tag must be 1-50 letters, digits, _ : . or -' })
  tag?: string;

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS)
  firstChannel?: Channel;

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional()
  @IsIn(CHANNELS)
  lastChannel?: Channel;

  @ApiPropertyOptional({ enum: STATUSES, description: 'Email consent status' })
  @IsOptional()
  @IsIn(STATUSES)
  emailStatus?: SubscriptionStatus;

  @ApiPropertyOptional({ enum: STATUSES, description: 'SMS consent status' })
  @IsOptional()
  @IsIn(STATUSES)
  smsStatus?: SubscriptionStatus;

  @ApiPropertyOptional({ description: 'Created at or after (ISO 8601)' })
  @IsOptional()
  @IsDateString()
  createdFrom?: string;

  @ApiPropertyOptional({ description: 'Created before (ISO 8601)' })
  @IsOptional()
  @IsDateString()
  createdTo?: string;

  @ApiPropertyOptional({ description: 'Text search over email, names and phone' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class UpdateContactDto {
  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  firstName?: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  lastName?: string;

  @ApiPropertyOptional({ description: 'Merged into the attributes; a null value removes that attribute', example: { plan: 'pro' } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], description: 'Tags to add' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(TAG, { each: true, message: 'each tag must be 1-50 letters, digits, _ : . or -' })
  addTags?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Tags to remove' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(TAG, { each: true, message: 'each tag must be 1-50 letters, digits, _ : . or -' })
  removeTags?: string[];
}

export class TouchResponse {
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiProperty() at: string;
  @ApiPropertyOptional() url?: string;
  @ApiPropertyOptional() referrer?: string;
  @ApiPropertyOptional() utm_source?: string;
  @ApiPropertyOptional() utm_medium?: string;
  @ApiPropertyOptional() utm_campaign?: string;
  @ApiPropertyOptional() utm_term?: string;
  @ApiPropertyOptional() utm_content?: string;
  @ApiPropertyOptional() fbclid?: string;
  @ApiPropertyOptional() gclid?: string;
  @ApiPropertyOptional() ttclid?: string;
}

export class ContactResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true }) email: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'E.164' }) phone: string | null;
  @ApiProperty({ type: String, nullable: true }) firstName: string | null;
  @ApiProperty({ type: String, nullable: true }) lastName: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) attributes: Record<string, unknown>;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ enum: STATUSES }) emailStatus: SubscriptionStatus;
  @ApiProperty({ enum: STATUSES }) smsStatus: SubscriptionStatus;
  @ApiProperty({ type: TouchResponse, nullable: true }) firstTouch: Touch | null;
  @ApiProperty({ type: TouchResponse, nullable: true }) lastTouch: Touch | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class ContactPage {
  @ApiProperty({ type: [ContactResponse] }) data: ContactResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ConsentResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['email', 'sms'] }) channel: 'email' | 'sms';
  @ApiProperty({ enum: ['granted', 'pending', 'confirmed', 'withdrawn'] }) status: string;
  @ApiProperty({ enum: ['form', 'import', 'api', 'double_opt_in', 'unsubscribe'] }) source: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) formId: string | null;
  @ApiProperty({ type: Number, nullable: true }) formVersion: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The exact wording shown' }) wording: string | null;
  @ApiProperty({ type: String, nullable: true }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty() createdAt: string;
}

export class ConsentList {
  @ApiProperty({ type: [ConsentResponse] }) data: ConsentResponse[];
}

export class TimelineEntry {
  @ApiProperty({ enum: ['submission', 'consent', 'event', 'message'] }) kind: string;
  @ApiProperty() at: string;
  @ApiProperty({ description: 'Submission: form id and channel; consent: channel and status; event: type; message: kind and status' })
  summary: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
}

export class TimelineQuery {
  @ApiPropertyOptional({ description: 'Entries before this time (ISO 8601), for the next page' })
  @IsOptional()
  @IsDateString()
  before?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 100;
}

export class Timeline {
  @ApiProperty({ type: [TimelineEntry] }) data: TimelineEntry[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as ?before= for older entries' }) nextBefore: string | null;
}

export function toContactResponse(c: ContactRow): ContactResponse {
  return {
    id: c.id,
    email: c.email,
    phone: c.phone,
    firstName: c.firstName,
    lastName: c.lastName,
    attributes: c.attributes,
    tags: c.tags,
    emailStatus: c.emailStatus,
    smsStatus: c.smsStatus,
    firstTouch: c.firstTouch,
    lastTouch: c.lastTouch,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
