// Who caused an event: the API token that made the change, or `local` when access control is off.
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Role } from '../auth/api-token.entity';
import type { Principal } from '../auth/tokens.service';

/**
 * Stored with each event as it was when the event happened: a token renamed or revoked later
 * still shows the name and role it acted with. Events of background work (scheduled passes, a
 * migration's progress) have none.
 */
export type Actor = { type: 'token'; id: string; name: string; role: Role } | { type: 'local' };

export const LOCAL_ACTOR: Actor = { type: 'local' };

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
