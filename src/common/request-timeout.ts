import type { NextFunction, Request, Response } from 'express';
import { problem, PROBLEM_CONTENT_TYPE, RETRY_AFTER_SECONDS } from './problem';

/**
 * Answers 503 (with Retry-After) when a request has had no answer for `limitMs`. The work itself is
 * not cut short: a write in progress still commits or rolls back as a whole, in its own transaction;
 * what the route answers after the 503 is dropped.
 *
 * A plain middleware with one timer, where a Nest interceptor cost every request an rxjs pipeline and
 * an async-context bind.
 */
export function requestTimeout(limitMs: number): (req: Request, res: Response, next: NextFunction) => void {
  const detail = `The request took longer than ${limitMs / 1000} s; a write may still complete, so read before retrying`;
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      const body = JSON.stringify({ ...problem(503, detail), instance: req.originalUrl.split('?')[0] });
      res.status(503).setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res.type(PROBLEM_CONTENT_TYPE).send(body);
      const dropped = () => res;
      res.json = dropped;
      res.send = dropped;
    }, limitMs);
    // 'close' comes once the answer is sent, or when the client goes away first.
    res.once('close', () => clearTimeout(timer));
    next();
  };
}
