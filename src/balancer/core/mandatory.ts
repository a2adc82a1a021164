// Mandatory moves (priority 1, never capped): evacuate hosts entering maintenance, fix hard-rule
// violations (anti-affinity, then affinity, then vm-host), relieve hosts whose memory is
// overcommitted. Then, while soft rules are enforced, fix soft-rule violations within the budgets.
import { PlanAttempt, StepKind } from './attempt';
import { Refusal } from './constraints';
import { NotMovedReason } from './model';
import {
  bestTarget,
  bestUnitMove,
  connectedHosts,
  feasibleTargets,
  gatherUnit,
  isRefusal,
  makeRoomForOneOf,
  moveMakingRoom,
  pinnedReason,
  unitPinned,
} from './move-targets';
import { PlanningState } from './planning-state';

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

function leaveAll(attempt: PlanAttempt, vms: readonly number[], code: NotMovedReason, explanation: string): void {
  for (const v of vms) attempt.leave(v, code, explanation);
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
      const pinned = unitPinned(
        state,
        members.filter((v) => state.vmHost[v] >= 0),
      );
      if (pinned) {
        leaveAll(attempt, onHost, pinned.code, `${hostName} is entering maintenance, but ${pinned.explanation}`);
        continue;
      }
      if (state.unitHost(u) === h) {
        const choice = bestTarget(attempt, members, h, 'mandatory');
        if (
          isRefusal(choice) &&
          (choice.code === 'no-room' || choice.code === 'rule-forbids') &&
          moveMakingRoom(attempt, members, h, 'mandatory', 'maintenance', undefined)
        )
          continue;
        if (isRefusal(choice)) {
          leaveAll(attempt, onHost, choice.code, `${hostName} is entering maintenance, but no host can take it: ${choice.explanation}`);
        } else {
          attempt.record({ vms: [...members], from: h, to: choice.to, kind: 'mandatory', reason: 'maintenance' });
        }
      } else {
        const refusal = gatherUnit(attempt, u, 'mandatory', 'maintenance', undefined, connectedHosts(state, h));
        if (refusal)
          leaveAll(
            attempt,
            onHost,
            refusal.code,
            `${hostName} is entering maintenance, but no host can take its group: ${refusal.explanation}`,
          );
      }
    }
  }
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
          leaveAll(
            attempt,
            together.slice(1),
            choice.code,
            `anti-affinity rule '${rule.name}' is broken on ${state.hosts[h].name} (${names}), but no move fixes it: ${choice.explanation}`,
          );
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
      const pinnedHosts = hostsOf(
        state,
        pinned.map((x) => x.v),
      );
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
    if (refusal) {
      leaveAll(
        attempt,
        members,
        refusal.code,
        `affinity rule '${rule.name}' is broken, but no host can take the whole group: ${refusal.explanation}`,
      );
    }
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
      attempt.leave(
        v,
        choice.code,
        `vm-host rule '${rule.name}' is broken on ${state.hosts[h].name}, but no allowed host can take it: ${choice.explanation}`,
      );
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
