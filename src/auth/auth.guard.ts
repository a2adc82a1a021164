import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Role } from './api-token.entity';
import { bearerOf, roleAllows } from './tokens';
import { Principal, TokensService } from './tokens.service';

const ROLE_KEY = 'drs:role';
const PUBLIC_KEY = 'drs:public';

/** The least role a route needs; without it, reads need `viewer` and every other method `operator`. */
export const RequiresRole = (role: Role) => SetMetadata(ROLE_KEY, role);
/** A route anyone may call, token or not (the health check). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type AuthenticatedRequest = Request & { principal?: Principal };

/** Bearer-token access control for every route, once any token exists (or off loopback, always). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    if (!(await this.tokens.required())) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerOf(request.headers.authorization);
    if (!token) {
      throw new DomainError(ErrorCode.Unauthenticated, 'This service requires an API token: send "Authorization: Bearer <token>"');
    }
    const principal = await this.tokens.authenticate(token);
    if (!principal) throw new DomainError(ErrorCode.Unauthenticated, 'The API token is unknown or revoked');
    const needed = this.reflector.getAllAndOverride<Role>(ROLE_KEY, targets) ?? (READ_METHODS.has(request.method) ? 'viewer' : 'operator');
    if (!roleAllows(principal.role, needed)) {
      throw new DomainError(ErrorCode.Forbidden, `This needs the ${needed} role; the token has ${principal.role}`);
    }
    request.principal = principal;
    return true;
  }
}
