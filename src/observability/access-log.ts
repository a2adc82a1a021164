import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';

export type AccessLogLevel = 'error' | 'warn' | 'debug';

/** The level of a request's access line: errors, refusals, and (only when debugging) the rest. */
export const accessLogLevel = (status: number): AccessLogLevel => (status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug');

/**
 * One access line per request once its answer is sent: method, URL, status, time and client
 * address, at warn for 4xx, error for 5xx and debug otherwise. A request whose client went away
 * before its answer was sent gets a "request aborted" line at warn, without a status. Nothing is built unless the level is
 * on, and request headers (tokens among them) are never logged.
 *
 * It stands in for pino-http through nestjs-pino (see AppModule), which serialized every request
 * up front into a request-bound child logger and bound it with AsyncLocalStorage: on Node 20 that
 * turns on async_hooks for the whole process, so every promise and every database call paid for it.
 * Together about a fifth of a read's time.
 */
export function accessLog(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = Date.now();
    // 'close' comes after 'finish', or alone when the client went away before the answer was sent.
    res.once('close', () => {
      const aborted = !res.writableFinished;
      const level = aborted ? 'warn' : accessLogLevel(res.statusCode);
      // Set by nestjs-pino when the app starts.
      const logger = PinoLogger.root;
      if (!logger?.isLevelEnabled(level)) return;
      logger[level](
        {
          // Not under `req`: the root logger's serializer for that key expects the raw request.
          request: { method: req.method, url: req.originalUrl, remoteAddress: req.socket.remoteAddress },
          statusCode: aborted ? undefined : res.statusCode,
          responseTime: Date.now() - started,
        },
        aborted ? 'request aborted' : 'request completed',
      );
    });
    next();
  };
}
