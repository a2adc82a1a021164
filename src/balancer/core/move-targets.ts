// Where a VM or an affinity group can go for a mandatory move, a rule fix or a relief move: the best
// allowed target, the units relief may move off a host, the best unit to move off a host, gathering a
// split group on one host, and making room on a full host by first moving another unit aside. Used by
// mandatory.ts, relief.ts and peak-relief.ts.
import { movePurpose, PlanAttempt, StepKind } from './attempt';
import { allowed, checkMove, Refusal, refusedBy } from './constraints';
import { NotMovedReason, pinnedWhy } from './model';
import { Move, PlanningState } from './planning-state';
import { moveWorth } from './worth';

export interface TargetChoice {
  to: number;
  imbalanceAfter: number;
}

export interface UnitChoice extends TargetChoice {
  unit: number;
  vms: number[];
  from: number;
  net: number;
}

/** Host budgets apply to soft-rule fixes only; mandatory moves are never refused for budget. */
function withinBudget(attempt: PlanAttempt, kind: StepKind, size: number, from: number, to: number): boolean {
  if (kind === 'mandatory') return true;
  const p = attempt.policy;
  return (
    attempt.totalMoves + size <= p.maxMovesPerPass &&
    (from < 0 || attempt.hostMoves[from] + size <= p.maxMovesPerHost) &&
    attempt.hostMoves[to] + size <= p.maxMovesPerHost
  );
}

/**
 * The connected host that leaves the lowest imbalance among those the constraints allow, or the
 * refusal of the best-scoring host when none does.
 */
export function bestTarget(
  attempt: PlanAttempt,
  vms: readonly number[],
  from: number,
  kind: StepKind,
  accept: (h: number) => boolean = () => true,
): TargetChoice | Refusal {
  const state = attempt.state;
  const { cpu, mem } = state.moveLoad(vms);
  const order: { h: number; after: number }[] = [];
  for (let h = 0; h < state.hostCount; h++) {
    if (h === from || !state.connected[h] || !accept(h)) continue;
    order.push({ h, after: state.imbalanceAfter(cpu, mem, from, h) });
  }
  order.sort((x, y) => x.after - y.after || x.h - y.h);
  let firstRefusal: Refusal | null = null;
  let capacityRefusal: Refusal | null = null;
  const move: Move = { vms, from, to: -1, purpose: movePurpose(kind) };
  for (const { h, after } of order) {
    if (!withinBudget(attempt, kind, vms.length, from, h)) {
      firstRefusal ??= { constraint: 'budget', code: 'budget', explanation: `the move budget of ${state.hosts[h].name} is spent` };
      continue;
    }
    move.to = h;
    const refusing = refusedBy(move, state);
    if (refusing === null) return { to: h, imbalanceAfter: after };
    // Worded only for the refusals kept.
    if (firstRefusal !== null && (refusing.code !== 'no-room' || capacityRefusal !== null)) continue;
    const refusal = checkMove(move, state)!;
    firstRefusal ??= refusal;
    if (refusal.code === 'no-room') capacityRefusal ??= refusal;
  }
  return (
    capacityRefusal ?? firstRefusal ?? { constraint: 'target-connected', code: 'no-room', explanation: 'there is no other connected host' }
  );
}

export function isRefusal(x: TargetChoice | Refusal): x is Refusal {
  return (x as Refusal).constraint !== undefined;
}

/**
 * When no host has room for `vms`, free a host the vm-host rules allow by first moving one other
 * unit off it (for capacity, or an anti-affinity mate), then move `vms` there: the pair leaving the lowest imbalance wins.
 * Both moves are recorded; returns false when no such pair exists.
 */
export function moveMakingRoom(
  attempt: PlanAttempt,
  vms: readonly number[],
  from: number,
  kind: StepKind,
  reason: 'maintenance' | 'rule-violation',
  ruleIndex: number | undefined,
  accept: (h: number) => boolean = () => true,
): boolean {
  const state = attempt.state;
  const moving = new Set(vms);
  let best: { w: number; s: number; t: number; after: number } | null = null;
  for (let t = 0; t < state.hostCount; t++) {
    if (t === from || !state.connected[t] || !accept(t)) continue;
    const direct = refusedBy({ vms, from, to: t, purpose: 'mandatory' }, state);
    // Room is what another VM can free: capacity, or the place an anti-affinity mate holds.
    if (direct === null || (direct.name !== 'capacity' && direct.name !== 'anti-affinity')) continue;
    const unitsOnT = new Set<number>();
    for (let v = 0; v < state.vmCount; v++) if (state.vmHost[v] === t && !moving.has(v)) unitsOnT.add(state.unitOfVm[v]);
    for (const w of unitsOnT) {
      if (state.unitHost(w) !== t || attempt.fixedUnits[w] || unitPinned(state, state.units[w])) continue;
      for (let s = 0; s < state.hostCount; s++) {
        if (s === t || !state.connected[s]) continue;
        const aside: Move = { vms: state.units[w], from: t, to: s, purpose: 'mandatory' };
        if (!allowed(aside, state)) continue;
        state.applyMove(aside);
        const then: Move = { vms, from, to: t, purpose: 'mandatory' };
        if (allowed(then, state)) {
          const load = state.moveLoad(vms);
          const after = state.imbalanceAfter(load.cpu, load.mem, from, t);
          if (best === null || after < best.after - 1e-15) best = { w, s, t, after };
        }
        state.applyMove({ ...aside, from: s, to: t });
      }
    }
  }
  if (best === null) return false;
  attempt.record({ vms: [...state.units[best.w]], from: best.t, to: best.s, kind, reason, ruleIndex, makesRoomFor: [...vms] });
  attempt.record({ vms: [...vms], from, to: best.t, kind, reason, ruleIndex });
  return true;
}

/** Why a VM cannot move at all, before looking at targets. */
export function pinnedReason(state: PlanningState, v: number): { code: NotMovedReason; explanation: string } | null {
  const vm = state.vms[v];
  if (state.vmDisabled[v]) return { code: 'pinned', explanation: pinnedWhy(vm) };
  if (state.vmMigrating[v]) return { code: 'migrating', explanation: `${vm.name} is already migrating` };
  const h = state.vmHost[v];
  if (h < 0) return { code: 'host-unreachable', explanation: `${vm.name} is on an unknown host` };
  if (!state.reachable[h]) return { code: 'host-unreachable', explanation: `${state.hosts[h].name} is disconnected` };
  return null;
}

/**
 * The units on host h that relief may move off it, in VM order, each once: one of its members carries load as
 * `carries` says, and the unit is together on h, neither pinned nor fixed, and not moved yet by this plan.
 */
export function reliefUnitsOn(attempt: PlanAttempt, h: number, carries: (v: number) => boolean): number[] {
  const state = attempt.state;
  const out: number[] = [];
  const seen = new Set<number>();
  for (let v = 0; v < state.vmCount; v++) {
    if (state.vmHost[v] !== h || !carries(v)) continue;
    const u = state.unitOfVm[v];
    if (seen.has(u)) continue;
    seen.add(u);
    if (attempt.fixedUnits[u] || state.unitHost(u) !== h || unitPinned(state, state.units[u]) || attempt.unitMoved(u)) continue;
    out.push(u);
  }
  return out;
}

export function unitPinned(state: PlanningState, members: readonly number[]): { code: NotMovedReason; explanation: string } | null {
  for (const v of members) {
    const r = pinnedReason(state, v);
    if (r) return r;
  }
  return null;
}

/**
 * Move every member of unit u that is not on the chosen host to it, piece by piece (the members
 * sharing a host move together). The host is the one needing the fewest VM moves, then leaving
 * the lowest imbalance. Returns false when no host can take the whole unit.
 */
export function gatherUnit(
  attempt: PlanAttempt,
  u: number,
  kind: StepKind,
  reason: 'maintenance' | 'rule-violation',
  ruleIndex: number | undefined,
  candidates: readonly number[],
): Refusal | null {
  const state = attempt.state;
  const members = state.units[u].filter((v) => state.vmHost[v] >= 0);
  let best: { to: number; moves: number; after: number } | null = null;
  let firstRefusal: Refusal | null = null;
  for (const t of candidates) {
    const barred = members.find((v) => state.allowedHosts[v] !== null && !state.allowedHosts[v][t]);
    if (barred !== undefined) {
      firstRefusal ??= {
        constraint: 'vm-host',
        code: 'rule-forbids',
        explanation: `${state.vms[barred].name} may not run on ${state.hosts[t].name}`,
      };
      continue;
    }
    const pieces = piecesOutside(state, members, t);
    const applied: Move[] = [];
    let refusal: Refusal | null = null;
    let moves = 0;
    for (const piece of pieces) {
      const move: Move = { vms: piece.vms, from: piece.from, to: t, purpose: 'mandatory' };
      if (!withinBudget(attempt, kind, piece.vms.length, piece.from, t)) {
        refusal = { constraint: 'budget', code: 'budget', explanation: `the move budget of ${state.hosts[t].name} is spent` };
        break;
      }
      refusal = checkMove(move, state);
      if (refusal) break;
      state.applyMove(move);
      applied.push(move);
      moves += piece.vms.length;
    }
    const after = state.imbalance();
    for (let i = applied.length - 1; i >= 0; i--) state.applyMove({ ...applied[i], from: applied[i].to, to: applied[i].from });
    if (refusal) {
      firstRefusal ??= refusal;
      continue;
    }
    if (best === null || moves < best.moves || (moves === best.moves && after < best.after - 1e-15)) best = { to: t, moves, after };
  }
  if (best === null) {
    return firstRefusal ?? { constraint: 'target-connected', code: 'no-room', explanation: 'there is no connected host for the group' };
  }
  for (const piece of piecesOutside(state, members, best.to)) {
    attempt.record({ vms: piece.vms, from: piece.from, to: best.to, kind, reason, ruleIndex });
  }
  return null;
}

function piecesOutside(state: PlanningState, members: readonly number[], t: number): { from: number; vms: number[] }[] {
  const byHost = new Map<number, number[]>();
  for (const v of members) {
    const h = state.vmHost[v];
    if (h === t) continue;
    if (!byHost.has(h)) byHost.set(h, []);
    byHost.get(h)!.push(v);
  }
  return [...byHost.entries()].sort((a, b) => a[0] - b[0]).map(([from, vms]) => ({ from, vms }));
}

export function connectedHosts(state: PlanningState, except = -1): number[] {
  const out: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h] && h !== except) out.push(h);
  return out;
}

/** Connected hosts (other than `from`) the constraints allow for these VMs right now. */
export function feasibleTargets(attempt: PlanAttempt, vms: readonly number[], from: number): number {
  const state = attempt.state;
  let n = 0;
  const move: Move = { vms, from, to: -1, purpose: 'mandatory' };
  for (let h = 0; h < state.hostCount; h++) {
    if (h === from || !state.connected[h]) continue;
    move.to = h;
    if (allowed(move, state)) n++;
  }
  return n;
}

/** The movable unit whose move scores best (gain − λ·cost), among units restricted by `candidates`. */
export function bestUnitMove(
  attempt: PlanAttempt,
  candidateVms: readonly number[],
  kind: StepKind,
  accept?: (vms: readonly number[], h: number) => boolean,
): UnitChoice | Refusal {
  const state = attempt.state;
  const I = state.imbalance();
  const worth = moveWorth(state);
  let best: UnitChoice | null = null;
  let refusal: Refusal | null = null;
  const seen = new Set<number>();
  for (const v of candidateVms) {
    const u = state.unitOfVm[v];
    if (seen.has(u)) continue;
    seen.add(u);
    const from = state.unitHost(u);
    const members = state.units[u];
    if (attempt.freezeMoved && attempt.unitMoved(u)) continue;
    const pinned =
      from < 0 ? { code: 'rule-forbids' as NotMovedReason, explanation: 'its affinity group is split' } : unitPinned(state, members);
    if (pinned) {
      refusal ??= { constraint: 'movable', code: pinned.code, explanation: pinned.explanation };
      continue;
    }
    const choice = bestTarget(attempt, members, from, kind, accept ? (h) => accept(members, h) : undefined);
    if (isRefusal(choice)) {
      refusal ??= choice;
      continue;
    }
    const net = worth.benefit(I, choice.imbalanceAfter) - worth.penalty(state.unitCost[u]);
    if (best === null || net > best.net + 1e-12 || (net >= best.net - 1e-12 && u < best.unit)) {
      best = { ...choice, unit: u, vms: [...members], from, net };
    }
  }
  return best ?? refusal ?? { constraint: 'movable', code: 'rule-forbids', explanation: 'no member can move' };
}

export function makeRoomForOneOf(attempt: PlanAttempt, candidateVms: readonly number[], kind: StepKind, ruleIndex: number): boolean {
  const state = attempt.state;
  const units = [...new Set(candidateVms.map((v) => state.unitOfVm[v]))].sort((a, b) => a - b);
  for (const u of units) {
    const from = state.unitHost(u);
    if (from < 0 || unitPinned(state, state.units[u])) continue;
    if (moveMakingRoom(attempt, state.units[u], from, kind, 'rule-violation', ruleIndex)) return true;
  }
  return false;
}
