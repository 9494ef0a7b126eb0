import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { FIELD_TYPES, HONEYPOT_FIELD, MAX_TEXT_LENGTH, type ConsentItem, type FieldType, type FormDefinition, type FormField } from './form-definition.js';
import type { FormEntity } from './form.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const KEY = /^[a-z][a-z0-9_]{0,39}$/;
const KEY_MESSAGE = 'must be 1-40 lowercase letters, digits or _, starting with a letter';

export class FormFieldDto implements FormField {
  @ApiProperty({ example: 'email', description: 'Built-in fields (email, phone, first_name, last_name) use their type as key' })
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key: string;

  @ApiProperty({ enum: FIELD_TYPES })
  @IsIn(FIELD_TYPES)
  type: FieldType;

  @ApiProperty({ maxLength: 200, example: 'Your email' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  label: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  required = false;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  placeholder?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_TEXT_LENGTH })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TEXT_LENGTH)
  minLength?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TEXT_LENGTH })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TEXT_LENGTH)
  maxLength?: number;

  @ApiPropertyOptional({ maxLength: 200, description: 'Regular expression the whole value must match (text fields)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  pattern?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsNumber()
  min?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsNumber()
  max?: number;

  @ApiPropertyOptional({ type: [String], description: 'Choices of a select field' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  options?: string[];
}

export class ConsentItemDto implements ConsentItem {
  @ApiProperty({ example: 'newsletter' })
  @Matches(KEY, { message: `key ${KEY_MESSAGE}` })
  key: string;

  @ApiProperty({ enum: ['email', 'sms'] })
  @IsIn(['email', 'sms'])
  channel: 'email' | 'sms';

  @ApiProperty({ description: 'The exact wording shown next to the checkbox; recorded with each consent', maxLength: 2000 })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  text: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  required = false;
}

const ORIGIN = /^https?:\/\/[^/?#\s]+$/;

/** Everything a form says; all optional so PATCH can send only what changes. */
export class FormSettingsDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'Unique across LeadNest: the hosted page is /f/{slug}', example: 'spring-giveaway' })
  @IsOptional()
  @Matches(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, { message: 'slug must be 1-64 lowercase letters, digits or dashes' })
  slug?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'Heading of the form and hosted page' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(200)
  title?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ type: [FormFieldDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => FormFieldDto)
  fields?: FormFieldDto[];

  @ApiPropertyOptional({ type: [ConsentItemDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => ConsentItemDto)
  consents?: ConsentItemDto[];

  @ApiPropertyOptional({ description: 'Email consent stays pending until the link in a confirmation email is followed' })
  @IsOptional()
  @IsBoolean()
  doubleOptIn?: boolean;

  @ApiPropertyOptional({ type: [String], example: ['https://shop.example'], description: 'Origins whose pages may submit; empty = any' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(ORIGIN, { each: true, message: 'each allowed origin must look like https://shop.example (no path)' })
  allowedOrigins?: string[];

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  successMessage?: string;

  @ApiPropertyOptional({ description: 'Where to send the visitor after a successful submission' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(2000)
  redirectUrl?: string;

  @ApiPropertyOptional({ type: [String], description: 'Tags added to every contact who submits' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(/^[\w:.-]{1,50}$/u, { each: true, message: 'each tag must be 1-50 letters, digits, _ : . or -' })
  tags?: string[];

  @ApiPropertyOptional({ example: 'US', description: 'Country for phone numbers typed without +country code' })
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'defaultCountry must be an ISO 3166 alpha-2 code such as US' })
  defaultCountry?: string;

  @ApiPropertyOptional({ maxLength: 50, default: 'Sign up' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  submitLabel?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 60, default: 2, description: 'Submissions faster than this after the form was shown are refused as spam' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60)
  minFillSeconds?: number;
}

export class CreateFormDto extends FormSettingsDto {
  @ApiProperty({ maxLength: 200 })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  declare name: string;

  @ApiProperty({ type: [FormFieldDto] })
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => FormFieldDto)
  declare fields: FormFieldDto[];
}

export class UpdateFormDto extends FormSettingsDto {
  @ApiPropertyOptional({ enum: ['active', 'archived'], description: 'Archived forms answer 404 publicly' })
  @IsOptional()
  @IsIn(['active', 'archived'])
  status?: 'active' | 'archived';
}

// ---- public submission

export class SubmissionContextDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) url?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) referrer?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) utm_source?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) utm_medium?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) utm_campaign?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) utm_term?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) utm_content?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) fbclid?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) gclid?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) ttclid?: string;
  @ApiPropertyOptional({ description: 'The visitor\'s anonymous id from the embed; earlier events are stitched to the contact' })
  @IsOptional()
  @Matches(/^[\w-]{8,64}$/, { message: 'anonymousId must be 8-64 letters, digits, _ or -' })
  anonymousId?: string;
}

export class SubmissionDto {
  @ApiProperty({ description: 'Field values by field key', example: { email: 'ada@example.com', first_name: 'Ada' } })
  @IsObject()
  fields: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Consent items by key: true when ticked', example: { newsletter: true } })
  @IsOptional()
  @IsObject()
  consent: Record<string, unknown> = {};

  @ApiPropertyOptional({ type: SubmissionContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => SubmissionContextDto)
  context: SubmissionContextDto = new SubmissionContextDto();

  @ApiPropertyOptional({ description: 'When the form was shown (ms since epoch), for the minimum fill time' })
  @IsOptional()
  @IsInt()
  @Min(0)
  startedAt?: number;

  @ApiPropertyOptional({ description: 'Honeypot: leave empty. Rendered hidden; bots fill it.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  [HONEYPOT_FIELD]?: string;
}

export class SubmissionResponse {
  @ApiProperty({ format: 'uuid' }) submissionId: string;
  @ApiProperty({ enum: ['received', 'confirmation_pending'] }) status: 'received' | 'confirmation_pending';
  @ApiProperty() message: string;
  @ApiPropertyOptional({ type: String, nullable: true }) redirectUrl: string | null;
}

// ---- responses

export class FormFieldResponse extends FormFieldDto {}
export class ConsentItemResponse extends ConsentItemDto {}

export class PublicFormResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() slug: string;
  @ApiProperty() version: number;
  @ApiProperty() title: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: [FormFieldResponse] }) fields: FormField[];
  @ApiProperty({ type: [ConsentItemResponse] }) consents: ConsentItem[];
  @ApiProperty() doubleOptIn: boolean;
  @ApiProperty() submitLabel: string;
  @ApiProperty() successMessage: string;
  @ApiPropertyOptional({ type: String, nullable: true }) redirectUrl: string | null;
  @ApiProperty({ description: 'Name of the hidden honeypot input' }) honeypotField: string;
  @ApiProperty() minFillSeconds: number;
  @ApiProperty({ description: 'Submission endpoint' }) submitUrl: string;
}

export class FormResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ enum: ['active', 'archived'] }) status: 'active' | 'archived';
  @ApiProperty({ description: 'Bumped on every change; submissions record the version they were made with' }) version: number;
  @ApiProperty() title: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: [FormFieldResponse] }) fields: FormField[];
  @ApiProperty({ type: [ConsentItemResponse] }) consents: ConsentItem[];
  @ApiProperty() doubleOptIn: boolean;
  @ApiProperty({ type: [String] }) allowedOrigins: string[];
  @ApiProperty() successMessage: string;
  @ApiPropertyOptional({ type: String, nullable: true }) redirectUrl: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiPropertyOptional({ type: String, nullable: true }) defaultCountry: string | null;
  @ApiProperty() submitLabel: string;
  @ApiProperty() minFillSeconds: number;
  @ApiProperty({ description: 'Hosted landing page ("link in bio")' }) hostedUrl: string;
  @ApiProperty({ description: 'Snippet to paste into any page' }) embedSnippet: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class FormPage {
  @ApiProperty({ type: [FormResponse] }) data: FormResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export function toFormResponse(f: FormEntity, publicUrl: string): FormResponse {
  const d = f.definition;
  const base = publicUrl.replace(/\/$/, '');
  return {
    id: f.id,
    name: f.name,
    slug: f.slug,
    status: f.status,
    version: f.version,
    title: d.title,
    description: d.description,
    fields: d.fields,
    consents: d.consents,
    doubleOptIn: d.doubleOptIn,
    allowedOrigins: d.allowedOrigins,
    successMessage: d.successMessage,
    redirectUrl: d.redirectUrl ?? null,
    tags: d.tags,
    defaultCountry: d.defaultCountry ?? null,
    submitLabel: d.submitLabel,
    minFillSeconds: d.minFillSeconds,
    hostedUrl: `${base}/f/${f.slug}`,
    embedSnippet: `<div data-leadnest-form="${f.id}"></div><script src="${base}/embed.js" async></script>`,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

export function toPublicFormResponse(f: Pick<FormEntity, 'id' | 'slug' | 'version'> & { definition: FormDefinition }, publicUrl: string): PublicFormResponse {
  const d = f.definition;
  return {
    id: f.id,
    slug: f.slug,
    version: f.version,
    title: d.title,
    description: d.description,
    fields: d.fields,
    consents: d.consents,
    doubleOptIn: d.doubleOptIn,
    submitLabel: d.submitLabel,
    successMessage: d.successMessage,
    redirectUrl: d.redirectUrl ?? null,
    honeypotField: HONEYPOT_FIELD,
    minFillSeconds: d.minFillSeconds,
    submitUrl: `${publicUrl.replace(/\/$/, '')}/v1/public/forms/${f.id}/submissions`,
  };
}

