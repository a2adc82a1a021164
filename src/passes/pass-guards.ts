// What may hold a cluster's passes back, declared here and filled by modules above (the connectors:
// a cluster whose platform does not answer has a stale inventory), so that passes imports nothing upward.
import { Injectable } from '@nestjs/common';

export interface PassGuard {
  /** Why no pass of the cluster should run now, or null. */
  whyNotNow(clusterId: string): Promise<string | null>;
}

@Injectable()
export class PassGuards {
  private readonly guards: PassGuard[] = [];

  register(guard: PassGuard): void {
    this.guards.push(guard);
  }

  /** The first guard's reason, or null when none objects. */
  async whyNotNow(clusterId: string): Promise<string | null> {
    for (const guard of this.guards) {
      const reason = await guard.whyNotNow(clusterId);
      if (reason) return reason;
    }
    return null;
  }
}
