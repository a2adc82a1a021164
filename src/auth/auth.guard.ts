import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Role } from './api-token.entity';
import { AuthenticatedRequest, MISSING_TOKEN, UNKNOWN_TOKEN } from './request-access';
import { bearerOf, roleAllows } from './tokens';

const ROLE_KEY = 'drs:role';
const PUBLIC_KEY = 'drs:public';

/** The least role a route needs; without it, reads need `viewer` and every other method `operator`. */
export const RequiresRole = (role: Role) => SetMetadata(ROLE_KEY, role);
/** A route anyone may call, token or not (the health check). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type { AuthenticatedRequest };

/**
 * Per-route access: the token was checked by the requestAccess middleware before the body was read
 * (`request.principal`); here, whether the route needs one and which role.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // Without the middleware's verdict (an app not set up by configureApp) nothing is open.
    if (request.access?.open) return true;
    const principal = request.principal;
    if (!principal) {
      throw new DomainError(ErrorCode.Unauthenticated, bearerOf(request.headers.authorization) ? UNKNOWN_TOKEN : MISSING_TOKEN);
    }
    const needed = this.reflector.getAllAndOverride<Role>(ROLE_KEY, targets) ?? (READ_METHODS.has(request.method) ? 'viewer' : 'operator');
    if (!roleAllows(principal.role, needed)) {
      throw new DomainError(ErrorCode.Forbidden, `This needs the ${needed} role; the token has ${principal.role}`);
    }
    return true;
  }
}
