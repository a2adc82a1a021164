// Readable sentences for the plan: why each move, and why the VMs of an overloaded host stay put.
import { admissible } from './balancing';
import { checkMove, Refusal } from './constraints';
import { MoveReason, NotMovedVm, pinnedWhy } from './model';
import { PlanAttempt, Step } from './attempt';
import { cpuPeak, cpuVarianceOf } from './forecast';
import { PlanningState } from './planning-state';
import { PeakLine } from './peak-relief';
import { bandHalfWidth } from './relief';
import { moveWorth } from './worth';

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function fmtI(x: number): string {
  return x.toFixed(4);
}

function gib(mib: number): string {
  return `${(mib / 1024).toFixed(1)} GiB`;
}

function subject(state: PlanningState, vms: readonly number[]): string {
  if (vms.length === 1) return state.vms[vms[0]].name;
  return `the affinity group ${vms.map((v) => state.vms[v].name).join(', ')}`;
}

export interface StepFigures {
  imbalanceBefore: number;
  imbalanceAfter: number;
  fromCpu: number;
  /** The source's forecast CPU peak (forecast.ts), when it differs from fromCpu. */
  fromCpuPeak?: number;
  /** Peak relief's line before the move (peak-relief.ts): set for every 'forecast-peak' move (the move changes it). */
  peakLine?: PeakLine;
  fromMem: number;
  toCpuBefore: number;
  toMemBefore: number;
  toCpuAfter: number;
  toMemAfter: number;
  fromMemAfter: number;
  meanCpu: number;
  meanMem: number;
  /** Other members of the fixed anti-affinity rule on the source, before the move. */
  companions: number[];
}

/** Sentence for a step, given the replay state before it and the figures around it. */
export function describeStep(state: PlanningState, step: Step, reason: MoveReason, f: StepFigures): string {
  const what = subject(state, step.vms);
  const from = step.from >= 0 ? state.hosts[step.from].name : 'nowhere';
  const to = state.hosts[step.to].name;
  const load = state.moveLoad(step.vms);
  const targetFigures = `${to} (CPU ${pct(f.toCpuBefore)} → ${pct(f.toCpuAfter)}, memory ${pct(f.toMemBefore)} → ${pct(f.toMemAfter)})`;
  const imbalance = `imbalance ${fmtI(f.imbalanceBefore)} → ${fmtI(f.imbalanceAfter)}`;
  const rule = step.ruleIndex !== undefined ? state.rules[step.ruleIndex] : undefined;
  const enforcement = rule ? (rule.hard ? 'hard' : 'soft') : '';
  if (step.makesRoomFor) {
    const forWhat = subject(state, step.makesRoomFor);
    const why = reason === 'maintenance' ? 'evacuated from a host entering maintenance' : `moved to satisfy rule '${rule?.name ?? '?'}'`;
    return `${what} moves from ${from} to ${targetFigures} to make room on ${from} for ${forWhat}, which must be ${why} and fits nowhere else (${imbalance}).`;
  }
  switch (reason) {
    case 'maintenance':
      return `${from} is entering maintenance: ${what} moves to ${targetFigures}, the allowed host leaving the lowest ${imbalance}.`;
    case 'overcommit':
      return `${from} memory is overcommitted at ${pct(f.fromMem)} of capacity (ceiling ${pct(state.policy.memoryCeiling)}); moving ${what} (${gib(load.mem)}) to ${targetFigures} brings it to ${pct(f.fromMemAfter)}.`;
    case 'contention':
      if (f.fromCpu <= state.policy.cpuCeiling + 1e-9 && f.fromCpuPeak !== undefined) {
        return `${from} may not serve its VMs' CPU demand: at ${pct(f.fromCpu)} of capacity on average, their demand swings enough to reach ${pct(f.fromCpuPeak)} one interval in ten (ceiling ${pct(state.policy.cpuCeiling)}); moving ${what} to ${targetFigures} relieves it before any balancing (${imbalance}).`;
      }
      return `${from} cannot serve its VMs' CPU demand: at ${pct(f.fromCpu)} of capacity (ceiling ${pct(state.policy.cpuCeiling)}) they wait for CPU; moving ${what} to ${targetFigures} relieves it before any balancing (${imbalance}).`;
    case 'above-band': {
      const band = bandHalfWidth(state.policy.migrationThreshold);
      return (
        `${from} is at CPU ${pct(f.fromCpu)} / memory ${pct(f.fromMem)}, more than the band (${Math.round(band * 100)} points) above the cluster mean ` +
        `${pct(f.meanCpu)} / ${pct(f.meanMem)}; moving ${what} (${Math.round(load.cpu)} MHz, ${gib(load.mem)}) to ${targetFigures} brings it to ` +
        `CPU ${pct(state.uCpu[step.from])} / memory ${pct(f.fromMemAfter)}. A host above the band is relieved whatever the migration costs ` +
        `(${load.cost.toFixed(1)} GiB copied; ${imbalance}).`
      );
    }
    case 'forecast-peak': {
      const { line, meanPeak } = f.peakLine!;
      const drawn =
        line < meanPeak + bandHalfWidth(state.policy.migrationThreshold) - 1e-9
          ? `the CPU ceiling; the hosts' peaks average ${pct(meanPeak)}`
          : `the hosts' mean peak ${pct(meanPeak)} + the band`;
      const sigma = Math.sqrt(cpuVarianceOf(state, step.vms));
      return (
        `${from}'s VMs swing: at ${pct(f.fromCpu)} of its CPU on average, their demand reaches ${pct(f.fromCpuPeak ?? f.fromCpu)} one interval in ten, ` +
        `above ${pct(line)} (${drawn}); moving ${what} (${Math.round(load.cpu)} MHz, swinging by ${Math.round(sigma)} MHz) ` +
        `to ${targetFigures} brings ${from}'s peak to ${pct(cpuPeak(state, step.from))} and ${to}'s to ${pct(cpuPeak(state, step.to))} (${imbalance}).`
      );
    }
    case 'rule-violation':
      if (rule?.kind === 'anti-affinity') {
        const others = f.companions.map((v) => state.vms[v].name).join(', ') || 'another member';
        return `Anti-affinity rule '${rule.name}' (${enforcement}) had ${what} on ${from} together with ${others}; it moves to ${targetFigures}, which holds no other member (${imbalance}).`;
      }
      if (rule?.kind === 'affinity') {
        const members = rule.vms.map((v) => state.vms[v].name).join(', ');
        return `Affinity rule '${rule.name}' (${enforcement}) keeps ${members} on one host; ${what} joins the group on ${targetFigures} (${imbalance}).`;
      }
      if (rule?.kind === 'vm-host') {
        const hosts = state.hosts
          .filter((_, h) => rule.hostMask![h])
          .map((h) => h.name)
          .join(', ');
        const verb = rule.relation === 'run-on' ? 'run on' : 'not run on';
        return `VM-host rule '${rule.name}' (${enforcement}) says ${what} must ${verb} ${hosts || 'an empty host set'}; it moves from ${from} to ${targetFigures} (${imbalance}).`;
      }
      return `${what} moves from ${from} to ${to} to satisfy a rule (${imbalance}).`;
    default: {
      const resource = reason === 'balance-cpu' ? 'CPU' : 'memory';
      const gain = f.imbalanceBefore - f.imbalanceAfter;
      return (
        `${from} is loaded at CPU ${pct(f.fromCpu)} / memory ${pct(f.fromMem)} against a cluster mean of ${pct(f.meanCpu)} / ${pct(f.meanMem)}; ` +
        `moving ${what} (${Math.round(load.cpu)} MHz, ${gib(load.mem)}) to ${targetFigures} balances ${resource}: ` +
        `${imbalance} (gain ${gain.toExponential(2)}) for ${load.cost.toFixed(1)} GiB copied.`
      );
    }
  }
}

/**
 * When the plan leaves the cluster unbalanced, says why the VMs of the most loaded hosts (and of
 * hosts over a ceiling) were not moved. Bounded: a few hosts, their largest VMs.
 */
export function explainStuckVms(attempt: PlanAttempt, movedVms: ReadonlySet<number>, limit = 60): NotMovedVm[] {
  const state = attempt.state;
  const policy = attempt.policy;
  if (policy.migrationThreshold < 2 || state.balanced() || state.connectedCount < 2) return [];
  const connected: number[] = [];
  for (let h = 0; h < state.hostCount; h++) if (state.connected[h]) connected.push(h);
  const byLoad = [...connected].sort((a, b) => state.weightedLoad(b) - state.weightedLoad(a) || a - b);
  const hosts = [...new Set([byLoad[0], ...connected.filter((h) => state.overCeiling(h))])].slice(0, 4);
  const I = state.imbalance();
  const out: NotMovedVm[] = [];
  for (const h of hosts) {
    const host = state.hosts[h];
    const headline =
      `${host.name} is ${h === byLoad[0] ? 'the most loaded host' : 'over a ceiling'} ` +
      `(CPU ${pct(state.uCpu[h])}, memory ${pct(state.uMem[h])}; cluster mean ${pct(state.meanCpu)} / ${pct(state.meanMem)})`;
    const vms: number[] = [];
    for (let v = 0; v < state.vmCount; v++) {
      if (state.vmHost[v] === h && !movedVms.has(v) && !attempt.notMoved.has(v) && state.vmCpu[v] + state.vmMem[v] > 0) vms.push(v);
    }
    vms.sort(
      (a, b) =>
        state.vmCpu[b] / state.capCpu[h] +
          state.vmMem[b] / state.capMem[h] -
          (state.vmCpu[a] / state.capCpu[h] + state.vmMem[a] / state.capMem[h]) || a - b,
    );
    for (const v of vms.slice(0, 20)) {
      if (out.length >= limit) return out;
      const verdict = whyNotMoved(attempt, v, I);
      const vm = state.vms[v];
      out.push({
        vmId: vm.id,
        vmName: vm.name,
        hostId: host.id,
        reason: verdict.code,
        explanation: `${headline}; ${verdict.explanation}.`,
      });
    }
  }
  return out;
}

function whyNotMoved(attempt: PlanAttempt, v: number, I: number): Pick<Refusal, 'code' | 'explanation'> {
  const state = attempt.state;
  const policy = attempt.policy;
  const u = state.unitOfVm[v];
  const members = state.units[u];
  const h = state.vmHost[v];
  const name = state.vms[v].name;
  for (const w of members) {
    if (state.vmDisabled[w]) return { code: 'pinned', explanation: pinnedWhy(state.vms[w]) };
    if (state.vmMigrating[w]) return { code: 'migrating', explanation: `${state.vms[w].name} is already migrating` };
    if (state.vmCooldown[w]) return { code: 'cooldown', explanation: `${state.vms[w].name} moved recently and is in cooldown` };
  }
  if (state.unitHost(u) !== h) return { code: 'rule-forbids', explanation: `its affinity group is split across hosts` };
  const size = members.length;
  if (attempt.totalMoves + size > policy.maxMovesPerPass) {
    return {
      code: 'budget',
      explanation: `the pass already plans ${attempt.totalMoves} moves (maxMovesPerPass ${policy.maxMovesPerPass})`,
    };
  }
  if (attempt.hostMoves[h] + size > policy.maxMovesPerHost) {
    return {
      code: 'budget',
      explanation: `${state.hosts[h].name} already takes part in ${attempt.hostMoves[h]} moves (maxMovesPerHost ${policy.maxMovesPerHost})`,
    };
  }
  const { cpu, mem, cost } = state.moveLoad(members);
  const candidates: { t: number; after: number }[] = [];
  for (let t = 0; t < state.hostCount; t++)
    if (t !== h && state.connected[t]) candidates.push({ t, after: state.imbalanceAfter(cpu, mem, h, t) });
  candidates.sort((a, b) => a.after - b.after || a.t - b.t);
  let refusal: Refusal | null = null;
  let budgetHost: number | null = null;
  for (const { t, after } of candidates) {
    const r = checkMove({ vms: members, from: h, to: t, purpose: 'balance' }, state);
    if (r) {
      refusal ??= r;
      continue;
    }
    if (attempt.hostMoves[t] + size > policy.maxMovesPerHost) {
      budgetHost ??= t;
      continue;
    }
    const worth = moveWorth(state);
    const gain = worth.benefit(I, after);
    const penalty = worth.penalty(cost);
    const net = gain - penalty;
    const target = state.hosts[t].name;
    if (I - after <= 1e-12) {
      return {
        code: 'no-gain',
        explanation: `moving ${name} to the best allowed host, ${target}, would not lower the imbalance (${I.toFixed(4)} → ${after.toFixed(4)})`,
      };
    }
    if (!admissible(gain, net, policy.minGain)) {
      return {
        code: 'not-worth-cost',
        explanation:
          `moving ${name} to ${target} would lower the spread N·I² by only ${gain.toExponential(2)}, less than minGain ` +
          `${policy.minGain} or its cost: ${cost.toFixed(1)} GiB, ${((cost / worth.hostGiB) * 100).toFixed(2)} % ` +
          `of a host's memory, × λ ${policy.costWeight} = ${penalty.toExponential(2)}`,
      };
    }
    return { code: 'budget', explanation: `moving ${name} to ${target} would help, but the move budgets of this pass are spent` };
  }
  if (budgetHost !== null)
    return { code: 'budget', explanation: `${state.hosts[budgetHost].name}, the allowed host that would help, has no move budget left` };
  if (refusal) return { code: refusal.code, explanation: `the host that would help most refuses it: ${refusal.explanation}` };
  return { code: 'no-room', explanation: 'there is no other connected host' };
}
