import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/**
 * The throttler's guard, out of the way when the limit is off (RATE_LIMIT_MAX=0): every request would
 * otherwise pay its metadata lookups only to learn that it is skipped.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private off = false;

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.off = this.throttlers.every((t) => t.limit === 0);
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    return this.off ? Promise.resolve(true) : super.canActivate(context);
  }
}
