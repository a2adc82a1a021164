import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MetricsRecorder } from './metrics-recorder';

/** The route pattern express matched (`/api/v1/vms/:id`), never the raw path: label values stay bounded. */
export function routePattern(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl ?? ''}${path}`;
}

/**
 * Times every request a route handles, from its arrival to the last byte of the response, so that the
 * status is the one sent (after the exception filter), not the one the handler meant. Requests that no
 * route took (static files, unknown paths, bodies refused before routing) are not counted. A plain
 * Express middleware: as a Nest interceptor it cost every request an async-context bind and an rxjs pipe.
 */
export function httpMetrics(events: MetricsRecorder): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      if (!req.route) return;
      events.httpRequestFinished(req.method, routePattern(req), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
