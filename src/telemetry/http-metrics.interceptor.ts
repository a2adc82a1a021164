import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import { TelemetryEvents } from './telemetry-events';

/** The route pattern express matched (`/api/v1/vms/:id`), never the raw path: label values stay bounded. */
export function routePattern(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const path: unknown = req.route?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl ?? ''}${path}`;
}

/**
 * Times every request a controller route handles, up to the last byte of the response, so that the
 * status is the one sent (after the exception filter), not the one the handler meant.
 */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(private readonly events: TelemetryEvents) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const started = process.hrtime.bigint();
    const route = routePattern(req);
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.events.httpRequestFinished(req.method, route, res.statusCode, seconds);
    });
    return next.handle();
  }
}
