// The per-client rate limit, as Express middleware ahead of everything else: unknown paths, static
// files and the health check count too, and a client over its limit costs no token check, no body read.
import { normalizeIp, ThrottlerStorage } from '@nestjs/throttler';
import type { NextFunction, Request, Response } from 'express';
import { sendProblem } from '../common/json-body';

export interface RateLimitSettings {
  /** Requests per window and client; 0 turns the limit off. */
  max: number;
  windowSeconds: number;
}

export function rateLimit(
  storage: ThrottlerStorage,
  settings: RateLimitSettings,
): (req: Request, res: Response, next: NextFunction) => void {
  const ttlMs = settings.windowSeconds * 1000;
  const detail = `Too many requests: at most ${settings.max} per ${settings.windowSeconds} s from one client`;
  return (req, res, next) => {
    if (settings.max === 0) return next();
    // One key per address (per /64 for IPv6, which a client holds whole), for all routes together.
    const client = normalizeIp(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    storage.increment(client, ttlMs, settings.max, ttlMs, 'default').then(({ totalHits, timeToExpire, isBlocked, timeToBlockExpire }) => {
      if (isBlocked) {
        res.setHeader('Retry-After', String(Math.max(1, timeToBlockExpire)));
        return sendProblem(req, res, 429, detail);
      }
      res.setHeader('X-RateLimit-Limit', String(settings.max));
      res.setHeader('X-RateLimit-Remaining', String(Math.max(0, settings.max - totalHits)));
      res.setHeader('X-RateLimit-Reset', String(timeToExpire));
      next();
    }, next);
  };
}
