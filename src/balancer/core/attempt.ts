// Bookkeeping of one planning attempt: the moves decided so far, the budgets they used, and the
// VMs the planner had to leave where they are. A plan takes one attempt, or two when soft rules
// may be relaxed; a "pass" is the scheduler's recorded run, whose move budgets an attempt spends.
import { BalancingSearch } from './balancing';
import { MoveReason, NotMovedVm, NotMovedReason } from './model';
import { PlanningState } from './planning-state';

/** 'relief': a contended host's VM moved before balancing (priority 2, relief.ts). */
export type StepKind = 'mandatory' | 'soft' | 'relief' | 'balance';

/** One decided move of a VM or of a group of VMs that migrate together. */
export interface Step {
  vms: number[];
  from: number;
  to: number;
  kind: StepKind;
  /** Null for balancing steps: the resource is named when the plan is written out. */
  reason: MoveReason | null;
  ruleIndex?: number;
  /** Set on a mandatory move that only makes room on its target for the next move (these VMs). */
  makesRoomFor?: number[];
}

/** Balancing and relief respect cooldown; mandatory moves and rule fixes do not. */
export function movePurpose(kind: StepKind): 'balance' | 'mandatory' {
  return kind === 'balance' || kind === 'relief' ? 'balance' : 'mandatory';
}

export class PlanAttempt {
  readonly steps: Step[] = [];
  readonly hostMoves: Int32Array;
  totalMoves = 0;
  /** Units moved for a mandatory reason or a soft-rule fix: not moved again for balancing. */
  readonly fixedUnits: Uint8Array;
  readonly notMoved = new Map<number, NotMovedVm>();
  /** Hosts of the VMs before the plan. */
  readonly initialHost: Int32Array;
  /** When set, rule fixes leave VMs the plan already moves where they are (no second move). */
  freezeMoved = false;

  constructor(
    readonly state: PlanningState,
    readonly search: BalancingSearch,
  ) {
    this.hostMoves = new Int32Array(state.hostCount);
    this.fixedUnits = new Uint8Array(state.units.length);
    this.initialHost = Int32Array.from(state.vmHost);
  }

  /** True when the plan already moves a member of unit u. */
  unitMoved(u: number): boolean {
    return this.state.units[u].some((v) => this.state.vmHost[v] !== this.initialHost[v]);
  }

  get policy() {
    return this.state.policy;
  }

  record(step: Step): void {
    this.state.applyMove({ vms: step.vms, from: step.from, to: step.to, purpose: movePurpose(step.kind) });
    this.steps.push(step);
    this.count(step);
    if (step.kind !== 'balance') for (const v of step.vms) this.fixedUnits[this.state.unitOfVm[v]] = 1;
  }

  private count(step: Step): void {
    const size = step.vms.length;
    this.totalMoves += size;
    if (step.from >= 0) this.hostMoves[step.from] += size;
    this.hostMoves[step.to] += size;
  }

  /** Replace the balancing steps (the state must already reflect the new ones). */
  replaceBalancingSteps(steps: Step[]): void {
    const kept = this.steps.filter((s) => s.kind !== 'balance');
    this.steps.length = 0;
    this.hostMoves.fill(0);
    this.totalMoves = 0;
    for (const s of [...kept, ...steps]) {
      this.steps.push(s);
      this.count(s);
    }
  }

  /** Remembers why a VM stays put; the first reason given for a VM wins. */
  leave(v: number, reason: NotMovedReason, explanation: string): void {
    if (this.notMoved.has(v)) return;
    const vm = this.state.vms[v];
    this.notMoved.set(v, { vmId: vm.id, vmName: vm.name, hostId: vm.hostId, reason, explanation });
  }
}
