import cors from '@fastify/cors';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { corsDelegate } from './common/cors.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { auditRoutes } from './common/route-audit.js';
import { securityHeaders } from './common/security-headers.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/app-config.js';
import { ActiveFormsCache } from './forms/active-forms.cache.js';
import { MetricsService } from './health/metrics.service.js';

/** The HTTP application, configured the same way for `npm start`, tests and benchmarks. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    // Fastify's own logger stays off: nestjs-pino logs, with this id.
    logger: false,
    genReqId: requestId,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());
  failOnUndeclaredRoutes(app);

  const forms = app.get(ActiveFormsCache);
  // A function returning the delegate: avvio would call a bare delegate as an options factory.
  await app.register(cors, () => corsDelegate(config, async (form) => (await forms.get(form))?.definition.allowedOrigins ?? null));

  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  // Public endpoints take small bodies: a form submission or a batch of events.
  fastify.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/public/')) route.bodyLimit = config.PUBLIC_BODY_LIMIT_BYTES;
  });
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.headers(securityHeaders(request.url)).header('x-request-id', request.id);
  });
  const logger = app.get(Logger);
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // The path only: query strings can carry personal data; bodies and headers are never logged.
    if (config.LOG_REQUESTS) {
      logger.log(
        { reqId: request.id, method: request.method, route, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request completed',
        'HTTP',
      );
    }
  });

  setupOpenApi(app);
  await app.init();
  return app;
}

function setupOpenApi(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('LeadNest API')
      .setDescription(
        'Lead capture, funnels and drip sequences on contacts you own. Errors are RFC 9457 application/problem+json. ' +
          'Admin routes live under /v1/workspaces/{workspaceId}; authenticate with a member\'s JWT or a secret key (sk_…).',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'jwt')
      .addSecurity('secretKey', { type: 'http', scheme: 'bearer', description: 'Secret API key sk_… of one workspace' })
      .addSecurity('publishableKey', { type: 'http', scheme: 'bearer', description: 'Publishable key pk_… (browsers, public endpoints only)' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json', yamlDocumentUrl: 'docs/openapi.yaml' });
}

const REQUEST_ID = /^[\w.-]{1,100}$/;

/** A caller's X-Request-Id when it looks like one (so traces join up), otherwise a new UUID. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  return id;
}

export function failOnUndeclaredRoutes(app: INestApplicationContext): void {
  const problems = auditRoutes(app);
  if (problems.length > 0) throw new Error(`Routes without an access declaration:\n  ${problems.join('\n  ')}`);
}
