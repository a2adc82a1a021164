// Who is asking, decided before any body is read: the Host check (DNS rebinding) and the bearer token.
// Per-route role checks stay in AuthGuard, which reads what is decided here from the request.
import type { NextFunction, Request, Response } from 'express';
import { carriesBody, sendProblem } from '../common/json-body';
import { problem, PROBLEM_CONTENT_TYPE } from '../common/problem';
import { hostRefusal } from './listen-policy';
import { bearerOf } from './tokens';
import { Principal, TokensService } from './tokens.service';

export interface RequestAccess {
  /** No token exists (and the service listens on loopback only): every route is open. */
  open: boolean;
}

export type AuthenticatedRequest = Request & { principal?: Principal; access?: RequestAccess };

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const MISSING_TOKEN = 'This service requires an API token: send "Authorization: Bearer <token>"';
export const UNKNOWN_TOKEN = 'The API token is unknown or revoked';

export function sendUnauthenticated(req: Request, res: Response, detail: string): void {
  res.setHeader('WWW-Authenticate', 'Bearer realm="drs"');
  sendProblem(req, res, 401, detail);
}

/**
 * Refuses a foreign Host (421) and authenticates the bearer token into `request.principal`. A request
 * that writes or carries a body, without a valid token where one is required, gets its 401 here, so
 * that its body is never read. Reads without a token go on: public routes (the health check, the
 * dashboard's files) serve them, and AuthGuard refuses the others.
 */
export function requestAccess(
  tokens: TokensService,
  allowedHosts: ReadonlySet<string>,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const request = req as AuthenticatedRequest;
    decide(request, res).then((pass) => (pass ? next() : undefined), next);
  };

  async function decide(req: AuthenticatedRequest, res: Response): Promise<boolean> {
    const open = !(await tokens.required());
    req.access = { open };
    const refusal = hostRefusal(req.headers.host, open, allowedHosts);
    if (refusal) {
      if (!res.headersSent) {
        const body = JSON.stringify({ ...problem(421, refusal), title: 'Misdirected Request', instance: req.originalUrl.split('?')[0] });
        res.status(421).type(PROBLEM_CONTENT_TYPE).send(body);
      }
      return false;
    }
    if (open) return true;
    const token = bearerOf(req.headers.authorization);
    if (token) req.principal = await tokens.authenticate(token);
    if (req.principal || (READ_METHODS.has(req.method) && !carriesBody(req))) return true;
    sendUnauthenticated(req, res, token ? UNKNOWN_TOKEN : MISSING_TOKEN);
    return false;
  }
}
