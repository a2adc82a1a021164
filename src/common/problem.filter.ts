import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { brokenConstraint, isDatabaseUnavailable } from '../database/database-errors';
import { DomainError, ErrorCode, FieldProblem } from './domain-error';
import { Problem, problem, PROBLEM_CONTENT_TYPE, RETRY_AFTER_SECONDS } from './problem';
import { RequestValidationError } from './validation';

const STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.StaleVersion]: 409,
  [ErrorCode.InUse]: 409,
  [ErrorCode.Invalid]: 400,
  [ErrorCode.Unprocessable]: 422,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
};

/** The one place where errors become HTTP: every error response is application/problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const body = this.toProblem(exception);
    body.instance = request?.originalUrl?.split('?')[0];
    if (response.headersSent) return;
    if (body.status === 503) response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    if (body.status === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="drs"');
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  toProblem(exception: unknown): Problem {
    if (exception instanceof DomainError) {
      return { ...problem(STATUS_OF[exception.code], exception.message, exception.errors), ...exception.extra };
    }
    if (exception instanceof RequestValidationError) {
      return problem(400, exception.message, exception.errors);
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception);
    }
    // Client errors that http-errors marks safe to show (`expose`).
    const httpError = exception as { status?: unknown; expose?: unknown; message?: unknown };
    if (httpError?.expose === true && typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
      return problem(httpError.status, `The request could not be read: ${String(httpError.message).slice(0, 200)}`);
    }
    if (exception instanceof QueryFailedError) {
      const fromDb = this.fromDatabaseError(exception);
      if (fromDb) return fromDb;
    }
    if (isDatabaseUnavailable(exception)) {
      return problem(503, 'The database is busy, unreachable or out of space; try again shortly');
    }
    this.logger.error({ err: exception }, 'Unhandled error');
    return problem(500, 'An internal error occurred; it has been logged');
  }

  private fromHttpException(exception: HttpException): Problem {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let detail = exception.message;
    let errors: FieldProblem[] | undefined;
    if (typeof response === 'object' && response !== null) {
      const message = (response as { message?: unknown }).message;
      if (Array.isArray(message)) {
        errors = message.map((m) => ({ field: String(m).split(' ')[0], message: String(m) }));
        detail = 'Invalid request';
      } else if (typeof message === 'string') {
        detail = message;
      }
    }
    if (status >= 500) this.logger.error({ err: exception }, 'HTTP exception');
    return problem(status, detail, errors);
  }

  private fromDatabaseError(error: Error): Problem | undefined {
    const broken = brokenConstraint(error);
    if (broken?.kind === 'unique') {
      return problem(409, 'A resource with the same unique value already exists', [
        { field: broken.column ?? 'name', message: `${broken.column ?? 'value'} is already taken` },
      ]);
    }
    if (broken?.kind === 'reference') {
      return problem(409, 'The change would break a reference between resources');
    }
    return undefined;
  }
}
