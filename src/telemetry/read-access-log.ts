import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';

export type AccessLogLevel = 'error' | 'warn' | 'debug';

/** The level of a request's access line: errors, refusals, and (only when debugging) the rest. */
export const accessLogLevel = (status: number, err?: unknown): AccessLogLevel => (err || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug');

/**
 * The access line of a GET request, which pino-http is not applied to (see AppModule): the same
 * levels and message, with the method, URL and status. Nothing is logged, or serialized, unless the
 * level is enabled. Headers are never logged.
 */
export function readAccessLog(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET') return next();
    const started = Date.now();
    res.once('finish', () => {
      const level = accessLogLevel(res.statusCode);
      // Set by nestjs-pino when the app starts.
      const logger = PinoLogger.root;
      if (!logger?.isLevelEnabled(level)) return;
      logger[level]({ req: { method: req.method, url: req.originalUrl }, statusCode: res.statusCode, responseTime: Date.now() - started }, 'request completed');
    });
    next();
  };
}
