// The actor (see events/actor.ts) of an API request, from the token authentication found on it.
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Actor, LOCAL_ACTOR } from '../events/actor';
import type { Principal } from './tokens.service';

/** The actor of a request: its token, or `local` when it carried none because access control is off. */
export function actorOf(principal: Principal | undefined): Actor {
  return principal ? { type: 'token', id: principal.tokenId, name: principal.name, role: principal.role } : LOCAL_ACTOR;
}

/**
 * The request's actor, as a controller parameter; services take it explicitly and put it in the
 * events they record. Reads only `request.principal`, which authentication sets on every request it
 * lets through with a token (and leaves unset when access control is off).
 */
export const RequestActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor =>
  actorOf(context.switchToHttp().getRequest<{ principal?: Principal }>().principal),
);
