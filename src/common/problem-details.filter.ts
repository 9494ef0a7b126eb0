import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DomainException, problemType, type FieldError, type ProblemDetails } from './problem.js';

// Fastify's own errors (body parsing, size, media type) carry a statusCode and a FST_ code.
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const FASTIFY_DETAILS: Record<string, [string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['malformed_json', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['malformed_json', 'The request body is empty but declared as JSON.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is larger than this endpoint accepts.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'Send the body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_content_length', 'The Content-Length header does not match the body.'],
};

/** Maps every error to RFC 9457 problem+json. Unexpected errors are logged and answered without details. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const { problem, headers } = this.toProblem(exception, request);
    // Expected failures (a DomainException, an HttpException) are answers, not incidents.
    if (problem.status >= 500 && !(exception instanceof DomainException) && !(exception instanceof HttpException)) {
      this.logger.error({ err: exception, reqId: request.id }, 'unhandled error');
    }
    void reply
      .status(problem.status)
      .headers(headers ?? {})
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, request: FastifyRequest): { problem: ProblemDetails; headers?: Record<string, string> } {
    const instance = request.url?.split('?')[0];
    if (exception instanceof DomainException) {
      return {
        problem: build(exception.status, exception.code, exception.detail, instance, exception.errors),
        headers: exception.headers,
      };
    }
    // Nest wraps Fastify's 4xx errors (body parsing, size) in an HttpException with the original as cause.
    const fastifyError = (exception instanceof HttpException ? exception.cause : exception) as FastifyLikeError | undefined;
    const known = FASTIFY_DETAILS[fastifyError?.code ?? ''];
    if (known && typeof fastifyError?.statusCode === 'number') {
      return { problem: build(fastifyError.statusCode, known[0], known[1], instance) };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'object' && body && 'message' in body ? (body as { message: unknown }).message : exception.message;
      const detail = status === HttpStatus.NOT_FOUND ? `No route matches ${request.method} ${instance}.` : String(message);
      return { problem: build(status, status === 404 ? 'not_found' : undefined, detail, instance) };
    }
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return { problem: build(fastifyError.statusCode, undefined, fastifyError.message ?? 'Bad request.', instance) };
    }
    return { problem: build(500, 'internal_error', 'An unexpected error occurred. It has been logged.', instance) };
  }
}

function build(status: number, code: string | undefined, detail: string, instance?: string, errors?: FieldError[]): ProblemDetails {
  const problem: ProblemDetails = { type: problemType(code), title: STATUS_CODES[status] ?? 'Error', status, detail };
  if (code) problem.code = code;
  if (instance) problem.instance = instance;
  if (errors) problem.errors = errors;
  return problem;
}
