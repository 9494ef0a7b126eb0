import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsISO31661Alpha2, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_TAG_LENGTH, splitTags, type RowError } from './import-row.js';

export const IMPORT_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

// ---- requests

/** The body of an import is the CSV itself (text/csv); the text/csv parser wraps it in this, nothing else does. */
export class CsvUpload {
  constructor(readonly text: string) {}
}

export class ImportQueryDto {
  @ApiPropertyOptional({
    maxLength: 1000,
    example: 'Opted in at shop checkout in 2024',
    description: 'The legal basis you state for the consents in the file; recorded as the wording of each consent. Required when a consent column says yes.',
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  consentBasis?: string;

  @ApiPropertyOptional({ type: String, description: 'Comma-separated tags added to every imported contact', example: 'shop,2024' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' || Array.isArray(value) ? splitTags(value as string | string[], ',') : value))
  @IsString({ each: true })
  @MaxLength(MAX_TAG_LENGTH, { each: true })
  @ArrayMaxSize(50)
  tags?: string[];

  @ApiPropertyOptional({ example: 'US', description: 'Country for phone numbers written without an international prefix' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value))
  @IsISO31661Alpha2()
  defaultCountry?: string;
}

export class ExportQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'csv';
}

// ---- responses

export class ImportRowErrorResponse {
  @ApiProperty({ description: 'Row in the file; the header is row 1' }) row: number;
  @ApiProperty({ example: 'email' }) field: string;
  @ApiProperty({ example: 'not a valid email address' }) message: string;
}

export class ImportSummaryResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: IMPORT_STATUSES }) status: ImportStatus;
  @ApiProperty({ description: 'Data rows in the file (blank lines not counted)' }) totalRows: number;
  @ApiProperty() processedRows: number;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress: number;
  @ApiProperty() createdContacts: number;
  @ApiProperty({ description: 'Rows merged into an existing contact (same email, else same phone)' }) updatedContacts: number;
  @ApiProperty({ description: 'Rows skipped because of an error' }) failedRows: number;
  @ApiProperty({ description: 'All row errors and notes, including those not listed' }) errorCount: number;
  @ApiProperty({ type: String, nullable: true }) consentBasis: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ type: String, nullable: true }) defaultCountry: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why a failed import stopped' }) failure: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) finishedAt: string | null;
}

export class ImportResponse extends ImportSummaryResponse {
  @ApiProperty({ type: [ImportRowErrorResponse], description: 'The first row errors (up to 1000), in row order' })
  errors: ImportRowErrorResponse[];
  @ApiProperty({ description: 'More errors were counted than listed' }) errorsTruncated: boolean;
}

export class ImportPage {
  @ApiProperty({ type: [ImportSummaryResponse] }) data: ImportSummaryResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

// ---- mappers

export interface ImportRow {
  id: string;
  status: ImportStatus;
  totalRows: number;
  processedRows: number;
  createdContacts: number;
  updatedContacts: number;
  failedRows: number;
  errorCount: number;
  consentBasis: string | null;
  tags: string[];
  defaultCountry: string | null;
  failure: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export function toImportSummaryResponse(r: ImportRow): ImportSummaryResponse {
  return {
    id: r.id,
    status: r.status,
    totalRows: r.totalRows,
    processedRows: r.processedRows,
    // Floored: 100 only once every row is done.
    progress: r.totalRows > 0 ? Math.floor((100 * r.processedRows) / r.totalRows) : r.status === 'completed' ? 100 : 0,
    createdContacts: r.createdContacts,
    updatedContacts: r.updatedContacts,
    failedRows: r.failedRows,
    errorCount: r.errorCount,
    consentBasis: r.consentBasis,
    tags: r.tags,
    defaultCountry: r.defaultCountry,
    failure: r.failure,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

export function toImportResponse(r: ImportRow, errors: RowError[]): ImportResponse {
  return { ...toImportSummaryResponse(r), errors, errorsTruncated: r.errorCount > errors.length };
}
