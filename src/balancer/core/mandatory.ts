// Mandatory moves (priority 1, never capped): evacuate hosts entering maintenance, fix hard-rule
// violations (anti-affinity, then affinity, then vm-host), relieve hosts whose memory is
// overcommitted. Then, while soft rules are enforced, fix soft-rule violations within the budgets.
import { checkMove, Refusal } from './constraints';
import { NotMovedReason } from './model';
import { PlanAttempt, StepKind } from './attempt';
import { Move, PlanningState } from './planning-state';

interface TargetChoice {
  to: number;
  imbalanceAfter: number;
}

interface UnitChoice extends TargetChoice {
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
  const move: Move = { vms, from, to: -1, purpose: kind === 'balance' ? 'balance' : 'mandatory' };
  for (const { h, after } of order) {
    if (!withinBudget(attempt, kind, vms.length, from, h)) {
      firstRefusal ??= { constraint: 'budget', code: 'budget', explanation: `the move budget of ${state.hosts[h].name} is spent` };
      continue;
    }
    move.to = h;
    const refusal = checkMove(move, state);
    if (refusal === null) return { to: h, imbalanceAfter: after };
    firstRefusal ??= refusal;
    if (refusal.code === 'no-room') capacityRefusal ??= refusal;
  }
  return (
    capacityRefusal ??
    firstRefusal ?? { constraint: 'target-connected', code: 'no-room', explanation: 'there is no other connected host' }
  );
}

function isRefusal(x: TargetChoice | Refusal): x is Refusal {
  return (x as Refusal).constraint !== undefined;
}

/**
 * When no host has room for `vms`, free a host the vm-host rules allow by first moving one other
 * unit off it (for capacity, or an anti-affinity mate), then move `vms` there: the pair leaving the lowest imbalance wins.
 * Both moves are recorded; returns false when no such pair exists.
 */
function moveMakingRoom(
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
    const direct = checkMove({ vms, from, to: t, purpose: 'mandatory' }, state);
    // Room is what another VM can free: capacity, or the place an anti-affinity mate holds.
    if (direct === null || (direct.constraint !== 'capacity' && direct.constraint !== 'anti-affinity')) continue;
    const unitsOnT = new Set<number>();
    for (let v = 0; v < state.vmCount; v++) if (state.vmHost[v] === t && !moving.has(v)) unitsOnT.add(state.unitOfVm[v]);
    for (const w of unitsOnT) {
      if (state.unitHost(w) !== t || attempt.fixedUnits[w] || unitPinned(state, state.units[w])) continue;
      for (let s = 0; s < state.hostCount; s++) {
        if (s === t || !state.connected[s]) continue;
        const aside: Move = { vms: state.units[w], from: t, to: s, purpose: 'mandatory' };
        if (checkMove(aside, state) !== null) continue;
        state.applyMove(aside);
        const then: Move = { vms, from, to: t, purpose: 'mandatory' };
        if (checkMove(then, state) === null) {
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
function pinnedReason(state: PlanningState, v: number): { code: NotMovedReason; explanation: string } | null {
  const vm = state.vms[v];
  if (state.vmDisabled[v]) return { code: 'pinned', explanation: `${vm.name} has automation disabled` };
  if (state.vmMigrating[v]) return { code: 'migrating', explanation: `${vm.name} is already migrating` };
  const h = state.vmHost[v];
  if (h < 0) return { code: 'host-unreachable', explanation: `${vm.name} is on an unknown host` };
  if (!state.reachable[h]) return { code: 'host-unreachable', explanation: `${state.hosts[h].name} is disconnected` };
  return null;
}

function unitPinned(state: PlanningState, members: readonly number[]): { code: NotMovedReason; explanation: string } | null {
  for (const v of members) {
    const r = pinnedReason(state, v);
    if (r) return r;
  }
  return null;
}

/** Weighted share of the cluster each unit's load represents: larger units are placed first. */
function unitWeights(state: PlanningState, units: readonly number[]): Map<number, number> {
  let cpuCap = 0;
  let memCap = 0;
  for (let h = 0; h < state.hostCount; h++) {
    cpuCap += state.capCpu[h];
    memCap += state.capMem[h];
  }
  return new Map(units.map((u) => [u, state.wCpu * (state.unitCpu[u] / cpuCap) + state.wMem * (state.unitMem[u] / memCap)]));
}

/**
 * Move every member of unit u that is not on the chosen host to it, piece by piece (the members
 * sharing a host move together). The host is the one needing the fewest VM moves, then leaving
 * the lowest imbalance. Returns false when no host can take the whole unit.
 */
function gatherUnit(
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
    const barred = members.find((v) => state.allowedHosts[v] !== null && !state.allowedHosts[v]![t]);
    if (barred !== undefined) {
      firstRefusal ??= { constraint: 'vm-host', code: 'rule-forbids', explanation: `${state.vms[barred].name} may not run on ${state.hosts[t].name}` };
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

function connectedHosts(state: PlanningState, except = -1): number[] {
  const out: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h] && h !== except) out.push(h);
  return out;
}

function leaveAll(attempt: PlanAttempt, vms: readonly number[], code: NotMovedReason, explanation: string): void {
  for (const v of vms) attempt.leave(v, code, explanation);
}

/** Connected hosts (other than `from`) the constraints allow for these VMs right now. */
function feasibleTargets(attempt: PlanAttempt, vms: readonly number[], from: number): number {
  const state = attempt.state;
  let n = 0;
  const move: Move = { vms, from, to: -1, purpose: 'mandatory' };
  for (let h = 0; h < state.hostCount; h++) {
    if (h === from || !state.connected[h]) continue;
    move.to = h;
    if (checkMove(move, state) === null) n++;
  }
  return n;
}

/**
 * Evacuation places the most constrained unit first (fewest allowed hosts), then the largest, each
 * on the allowed host leaving the lowest imbalance; when nothing has room, one other VM may move
 * aside to make room.
 */
export function evacuateMaintenanceHosts(attempt: PlanAttempt): void {
  const state = attempt.state;
  for (let h = 0; h < state.hostCount; h++) {
    if (state.hosts[h].state !== 'entering-maintenance') continue;
    const hostName = state.hosts[h].name;
    const touched = new Set<number>();
    for (let v = 0; v < state.vmCount; v++) if (state.vmHost[v] === h) touched.add(state.unitOfVm[v]);
    const weight = unitWeights(state, [...touched]);
    const remaining = [...touched].sort((a, b) => weight.get(b)! - weight.get(a)! || a - b);
    while (remaining.length > 0) {
      // Most constrained first: the together-units with the fewest allowed targets.
      let pickAt = 0;
      let fewest = Infinity;
      for (let i = 0; i < remaining.length; i++) {
        const u = remaining[i];
        if (state.unitHost(u) !== h || unitPinned(state, state.units[u])) {
          pickAt = i;
          break;
        }
        const n = feasibleTargets(attempt, state.units[u], h);
        if (n < fewest) {
          fewest = n;
          pickAt = i;
          if (n <= 1) break;
        }
      }
      const u = remaining.splice(pickAt, 1)[0];
      const members = state.units[u];
      const onHost = members.filter((v) => state.vmHost[v] === h);
      const pinned = unitPinned(state, members.filter((v) => state.vmHost[v] >= 0));
      if (pinned) {
        leaveAll(attempt, onHost, pinned.code, `${hostName} is entering maintenance, but ${pinned.explanation}`);
        continue;
      }
      if (state.unitHost(u) === h) {
        const choice = bestTarget(attempt, members, h, 'mandatory');
        if (isRefusal(choice) && (choice.code === 'no-room' || choice.code === 'rule-forbids') && moveMakingRoom(attempt, members, h, 'mandatory', 'maintenance', undefined)) continue;
        if (isRefusal(choice)) {
          leaveAll(attempt, onHost, choice.code, `${hostName} is entering maintenance, but no host can take it: ${choice.explanation}`);
        } else {
          attempt.record({ vms: [...members], from: h, to: choice.to, kind: 'mandatory', reason: 'maintenance' });
        }
      } else {
        const refusal = gatherUnit(attempt, u, 'mandatory', 'maintenance', undefined, connectedHosts(state, h));
        if (refusal) leaveAll(attempt, onHost, refusal.code, `${hostName} is entering maintenance, but no host can take its group: ${refusal.explanation}`);
      }
    }
  }
}

/** The movable unit whose move scores best (gain − λ·cost), among units restricted by `candidates`. */
function bestUnitMove(
  attempt: PlanAttempt,
  candidateVms: readonly number[],
  kind: StepKind,
  accept?: (vms: readonly number[], h: number) => boolean,
): UnitChoice | Refusal {
  const state = attempt.state;
  const I = state.imbalance();
  const lambda = state.policy.costWeight;
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
    const pinned = from < 0 ? { code: 'rule-forbids' as NotMovedReason, explanation: 'its affinity group is split' } : unitPinned(state, members);
    if (pinned) {
      refusal ??= { constraint: 'movable', code: pinned.code, explanation: pinned.explanation };
      continue;
    }
    const choice = bestTarget(attempt, members, from, kind, accept ? (h) => accept(members, h) : undefined);
    if (isRefusal(choice)) {
      refusal ??= choice;
      continue;
    }
    const net = I - choice.imbalanceAfter - lambda * state.unitCost[u];
    if (best === null || net > best.net + 1e-12 || (net >= best.net - 1e-12 && u < best.unit)) {
      best = { ...choice, unit: u, vms: [...members], from, net };
    }
  }
  return best ?? refusal ?? { constraint: 'movable', code: 'rule-forbids', explanation: 'no member can move' };
}

function makeRoomForOneOf(attempt: PlanAttempt, candidateVms: readonly number[], kind: StepKind, ruleIndex: number): boolean {
  const state = attempt.state;
  const units = [...new Set(candidateVms.map((v) => state.unitOfVm[v]))].sort((a, b) => a - b);
  for (const u of units) {
    const from = state.unitHost(u);
    if (from < 0 || unitPinned(state, state.units[u])) continue;
    if (moveMakingRoom(attempt, state.units[u], from, kind, 'rule-violation', ruleIndex)) return true;
  }
  return false;
}

export function fixAntiAffinity(attempt: PlanAttempt, hard: boolean): void {
  const state = attempt.state;
  const kind: StepKind = hard ? 'mandatory' : 'soft';
  for (const rule of state.rules) {
    if (!rule.active || rule.kind !== 'anti-affinity' || rule.hard !== hard) continue;
    const counts = state.antiCount[rule.index]!;
    for (let h = 0; h < state.hostCount; h++) {
      while (counts[h] >= 2) {
        const together = rule.vms.filter((v) => state.vmHost[v] === h);
        const choice = bestUnitMove(attempt, together, kind);
        if (isRefusal(choice) && hard && makeRoomForOneOf(attempt, together, kind, rule.index)) continue;
        if (isRefusal(choice)) {
          const names = together.map((v) => state.vms[v].name).join(', ');
          leaveAll(attempt, together.slice(1), choice.code, `anti-affinity rule '${rule.name}' is broken on ${state.hosts[h].name} (${names}), but no move fixes it: ${choice.explanation}`);
          break;
        }
        attempt.record({ vms: choice.vms, from: choice.from, to: choice.to, kind, reason: 'rule-violation', ruleIndex: rule.index });
      }
    }
  }
}

function hostsOf(state: PlanningState, vms: readonly number[]): Set<number> {
  const hosts = new Set<number>();
  for (const v of vms) if (state.vmHost[v] >= 0) hosts.add(state.vmHost[v]);
  return hosts;
}

export function fixAffinity(attempt: PlanAttempt, hard: boolean): void {
  const state = attempt.state;
  const kind: StepKind = hard ? 'mandatory' : 'soft';
  for (let u = 0; u < state.units.length; u++) {
    const ruleIndexes = state.unitRules[u];
    if (ruleIndexes.length === 0 || hostsOf(state, state.units[u]).size <= 1) continue;
    if (attempt.freezeMoved && attempt.unitMoved(u)) continue;
    const brokenHard = ruleIndexes.find((r) => state.rules[r].hard && hostsOf(state, state.rules[r].vms).size > 1);
    if (hard !== (brokenHard !== undefined)) continue;
    const ruleIndex = brokenHard ?? ruleIndexes.find((r) => hostsOf(state, state.rules[r].vms).size > 1) ?? ruleIndexes[0];
    const rule = state.rules[ruleIndex];
    const members = state.units[u].filter((v) => state.vmHost[v] >= 0);
    const pinned = members.map((v) => ({ v, r: pinnedReason(state, v) })).filter((x) => x.r !== null);
    let candidates: number[];
    if (pinned.length > 0) {
      // Pinned members fix the host: the rest must join them there.
      const pinnedHosts = hostsOf(state, pinned.map((x) => x.v));
      candidates = pinnedHosts.size === 1 ? [...pinnedHosts].filter((h) => state.connected[h]) : [];
      if (candidates.length === 0) {
        leaveAll(attempt, members, pinned[0].r!.code, `affinity rule '${rule.name}' is broken, but ${pinned[0].r!.explanation}`);
        continue;
      }
    } else {
      const current = [...hostsOf(state, members)].filter((h) => state.connected[h]).sort((a, b) => a - b);
      candidates = current;
      if (gatherOrNull(attempt, u, kind, ruleIndex, candidates) === null) continue;
      candidates = connectedHosts(state).filter((h) => !current.includes(h));
    }
    const refusal = gatherOrNull(attempt, u, kind, ruleIndex, candidates);
    if (refusal) leaveAll(attempt, members, refusal.code, `affinity rule '${rule.name}' is broken, but no host can take the whole group: ${refusal.explanation}`);
  }
}

function gatherOrNull(attempt: PlanAttempt, u: number, kind: StepKind, ruleIndex: number, candidates: number[]): Refusal | null {
  if (candidates.length === 0) return { constraint: 'target-connected', code: 'no-room', explanation: 'no connected host holds the group' };
  return gatherUnit(attempt, u, kind, 'rule-violation', ruleIndex, candidates);
}

export function fixVmHost(attempt: PlanAttempt, hard: boolean): void {
  const state = attempt.state;
  const kind: StepKind = hard ? 'mandatory' : 'soft';
  for (let v = 0; v < state.vmCount; v++) {
    const h = state.vmHost[v];
    if (h < 0 || state.hostRulesOfVm[v].length === 0) continue;
    const broken = state.hostRulesOfVm[v].map((r) => state.rules[r]).filter((r) => (r.relation === 'run-on') !== (r.hostMask![h] === 1));
    if (broken.length === 0) continue;
    const rule = broken.find((r) => r.hard) ?? broken[0];
    if (rule.hard !== hard) continue;
    const u = state.unitOfVm[v];
    const from = state.unitHost(u);
    if (from < 0) {
      attempt.leave(v, 'rule-forbids', `vm-host rule '${rule.name}' is broken, but its affinity group is split`);
      continue;
    }
    const choice = bestUnitMove(attempt, [v], kind);
    if (isRefusal(choice) && hard && makeRoomForOneOf(attempt, [v], kind, rule.index)) continue;
    if (isRefusal(choice)) {
      attempt.leave(v, choice.code, `vm-host rule '${rule.name}' is broken on ${state.hosts[h].name}, but no allowed host can take it: ${choice.explanation}`);
      continue;
    }
    attempt.record({ vms: choice.vms, from: choice.from, to: choice.to, kind, reason: 'rule-violation', ruleIndex: rule.index });
  }
}

export function relieveMemoryOvercommit(attempt: PlanAttempt): void {
  const state = attempt.state;
  const ceiling = state.policy.memoryCeiling;
  for (let h = 0; h < state.hostCount; h++) {
    if (!state.connected[h]) continue;
    while (state.uMem[h] > ceiling + 1e-9) {
      const onHost: number[] = [];
      for (let v = 0; v < state.vmCount; v++) if (state.vmHost[v] === h && state.vmMem[v] > 0) onHost.push(v);
      const choice = bestUnitMove(attempt, onHost, 'mandatory');
      if (isRefusal(choice)) {
        const explanation = `${state.hosts[h].name} memory is at ${(state.uMem[h] * 100).toFixed(1)} % (ceiling ${(ceiling * 100).toFixed(0)} %), but no VM can move off it: ${choice.explanation}`;
        leaveAll(attempt, onHost.sort((a, b) => state.vmMem[b] - state.vmMem[a] || a - b).slice(0, 10), choice.code, explanation);
        break;
      }
      attempt.record({ vms: choice.vms, from: choice.from, to: choice.to, kind: 'mandatory', reason: 'overcommit' });
    }
  }
}

/** Soft-rule fixes (priority 2, within the budgets). */
export function fixSoftRules(attempt: PlanAttempt): void {
  fixAntiAffinity(attempt, false);
  fixAffinity(attempt, false);
  fixVmHost(attempt, false);
}

export function runMandatory(attempt: PlanAttempt): void {
  evacuateMaintenanceHosts(attempt);
  fixAntiAffinity(attempt, true);
  fixAffinity(attempt, true);
  fixVmHost(attempt, true);
  relieveMemoryOvercommit(attempt);
  if (attempt.state.options.enforceSoftRules && attempt.policy.migrationThreshold >= 2) fixSoftRules(attempt);
}
