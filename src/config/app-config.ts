import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';

export const ROLES = ['api', 'worker', 'all'] as const;
export type ProcessRole = (typeof ROLES)[number];

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase());
const toList = ({ value }: { value: unknown }) =>
  value === undefined
    ? undefined
    : String(value)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/**
 * Every setting LeadNest reads, validated once at boot. Property names are the environment
 * variable names so that an error message names exactly what to fix. `.env.example` documents each.
 */
export class AppConfig {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsIn(ROLES)
  ROLE: ProcessRole = 'all';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  PUBLIC_URL = 'http://localhost:3000';

  // The admin UI's address: invitation links point there. Unset: PUBLIC_URL.
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  ADMIN_UI_URL?: string;

  // Unset: an embedded PostgreSQL is started with its data under EMBEDDED_PG_DIR.
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['postgres', 'postgresql'] })
  DATABASE_URL?: string;

  @IsString()
  EMBEDDED_PG_DIR = './.data/postgres';

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Transform(toBool)
  @IsBoolean()
  MIGRATIONS_RUN = true;

  @IsString()
  JOBS_SCHEMA = 'pgboss';

  // Required in production; elsewhere a random secret is generated and kept in .data/.
  @ValidateIf((c: AppConfig) => c.NODE_ENV === 'production' || c.JWT_SECRET !== undefined)
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  JWT_ACCESS_TTL_SECONDS = 900;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  REFRESH_TOKEN_TTL_DAYS = 30;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  INVITATION_TTL_HOURS = 72;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_LIMIT_PER_IP = 30;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_LIMIT_PER_ACCOUNT = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_LIMIT_WINDOW_SECONDS = 900;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  SIGNUP_LIMIT_PER_IP = 20;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  SIGNUP_LIMIT_WINDOW_SECONDS = 3600;

  // Origins allowed to call the admin API from a browser; '*' allows any.
  @Transform(toList)
  @IsString({ each: true })
  CORS_ORIGINS: string[] = [];

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 1_048_576;

  // Public endpoints (form submissions, events) take at most this much.
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  PUBLIC_BODY_LIMIT_BYTES = 65_536;

  @Transform(toBool)
  @IsBoolean()
  TRUST_PROXY = false;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  // log: record in the messages table and log (development default); sendgrid: send through SendGrid.
  @IsIn(['log', 'sendgrid'])
  EMAIL_TRANSPORT: 'log' | 'sendgrid' = 'log';

  @IsString()
  EMAIL_FROM = 'LeadNest <no-reply@localhost>';

  @ValidateIf((c: AppConfig) => c.EMAIL_TRANSPORT === 'sendgrid' || c.SENDGRID_API_KEY !== undefined)
  @IsString()
  @MinLength(10, { message: 'SENDGRID_API_KEY is required when EMAIL_TRANSPORT=sendgrid' })
  SENDGRID_API_KEY?: string;

  // Overridable for tests and EU data residency (https://api.eu.sendgrid.com).
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  SENDGRID_API_URL = 'https://api.sendgrid.com';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  CONFIRMATION_TTL_HOURS = 72;

  // Public submissions: per IP and form, and per form, in a one-minute window.
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SUBMISSION_LIMIT_PER_IP = 20;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  SUBMISSION_LIMIT_PER_FORM = 6000;

  // Funnel report: above this many timed stage entries in a window, medians come from a sample of contacts.
  @Transform(toInt)
  @IsInt()
  @Min(1)
  REPORT_MEDIAN_EXACT_LIMIT = 20_000;

  // Funnel rule engine: batches of one workspace evaluated at once, each over its own share of the
  // contacts. About the database's cores; 1 evaluates strictly one batch after another.
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(16)
  FUNNEL_ENGINE_LANES = 2;

  @Transform(toBool)
  @IsBoolean()
  LOG_REQUESTS = true;

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }

  get runsApi(): boolean {
    return this.ROLE === 'api' || this.ROLE === 'all';
  }

  get runsWorker(): boolean {
    return this.ROLE === 'worker' || this.ROLE === 'all';
  }
}

export class ConfigError extends Error {}

const KEYS = Object.keys(new AppConfig());

/** Builds and validates the config from an environment; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<AppConfig> = {}): AppConfig {
  const plain: Record<string, unknown> = {};
  for (const key of [...KEYS, 'DATABASE_URL', 'JWT_SECRET', 'ADMIN_UI_URL', 'SENDGRID_API_KEY']) {
    if (env[key] !== undefined && env[key] !== '') plain[key] = env[key];
  }
  const config = plainToInstance(AppConfig, plain, { exposeDefaultValues: true });
  Object.assign(config, overrides);
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const shown = e.property.includes('SECRET') ? '(hidden)' : JSON.stringify(plain[e.property] ?? null);
      return `  ${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
    });
    throw new ConfigError(`Invalid configuration, fix these environment variables:\n${lines.join('\n')}`);
  }
  return config;
}
