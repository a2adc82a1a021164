import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, throwError, timeout } from 'rxjs';
import { DomainError, ErrorCode } from './domain-error';

/**
 * Answers 503 (with Retry-After) when a handler runs longer than the limit. The work itself is not
 * cut short: a write in progress still commits or rolls back as a whole, in its own transaction.
 */
@Injectable()
export class RequestTimeoutInterceptor implements NestInterceptor {
  constructor(private readonly limitMs: number) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout({
        first: this.limitMs,
        with: () => throwError(() => new DomainError(ErrorCode.Unavailable, `The request took longer than ${this.limitMs / 1000} s; a write may still complete, so read before retrying`)),
      }),
    );
  }
}
