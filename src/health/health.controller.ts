import { Controller, Get, Header, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Public } from '../common/access.decorators.js';
import { DomainException } from '../common/problem.js';
import { JobsService } from '../jobs/jobs.service.js';
import { MetricsService } from './metrics.service.js';

class HealthResponse {
  status: string;
}

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly indicators: HealthIndicatorService,
    private readonly jobs: JobsService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health/live')
  @Public()
  @ApiOkResponse({ description: 'The process is up', type: HealthResponse })
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @Public()
  @ApiOkResponse({ description: 'Database and job queue answer' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down (problem+json naming it)' })
  async ready(): Promise<unknown> {
    try {
      return await this.health.check([
        () => this.indicators.check('database').attempt(async () => void (await this.ds.query('SELECT 1'))).withTimeout(2000),
        () => this.indicators.check('jobs').attempt(() => this.jobs.ping()).withTimeout(2000),
      ]);
    } catch (err) {
      const body = (err as { getResponse?: () => { error?: Record<string, unknown> } }).getResponse?.();
      const down = Object.keys(body?.error ?? {}).join(', ') || 'the database or the job queue';
      throw new DomainException(HttpStatus.SERVICE_UNAVAILABLE, 'not_ready', `Not ready: ${down} did not answer.`);
    }
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus exposition format' })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
