// A manual move is checked against room and hard rules by the balancer, which sits above the
// migration engine: the engine declares what it needs here and the balancer binds it at start-up.
import { Injectable } from '@nestjs/common';

export type MoveCheck = { allowed: true } | { allowed: false; status: 409 | 422; reasons: string[] };

export interface MoveChecker {
  checkMove(vmId: string, targetHostId: string): Promise<MoveCheck>;
}

@Injectable()
export class MoveCheckPort implements MoveChecker {
  private checker?: MoveChecker;

  bind(checker: MoveChecker): void {
    this.checker = checker;
  }

  checkMove(vmId: string, targetHostId: string): Promise<MoveCheck> {
    if (!this.checker) throw new Error('Manual moves are not checked: the balancer module is not loaded');
    return this.checker.checkMove(vmId, targetHostId);
  }
}
