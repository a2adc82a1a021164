// Invariants of planMoves over random clusters and rule sets. The checks here re-derive every
// constraint from the snapshot on their own, without the planner's filters.
import fc from 'fast-check';
import { ClusterSnapshot, DEFAULT_PLANNER_POLICY, Plan, PlannedMove, PlannerPolicy, RuleSnapshot } from './model';
import { applyPlan, planMoves } from './planner';
import { balanceReport } from './scoring';
import { randomCluster, seededRandom } from '../../../test/builders/random-cluster';

// Each small-cluster plan runs a search (about 30 ms here): 25 random clusters per property by default; raise for a deeper run.
const RUNS = Number(process.env.BALANCER_PROPERTY_RUNS ?? 25);

const clusterArb = fc
  .record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    hosts: fc.integer({ min: 2, max: 8 }),
    vms: fc.integer({ min: 1, max: 36 }),
    mixed: fc.boolean(),
    fill: fc.double({ min: 0.2, max: 0.85, noNaN: true }),
    skew: fc.double({ min: 0, max: 2.5, noNaN: true }),
    anti: fc.integer({ min: 0, max: 4 }),
    affinity: fc.integer({ min: 0, max: 3 }),
    vmHost: fc.integer({ min: 0, max: 3 }),
    softShare: fc.double({ min: 0, max: 1, noNaN: true }),
    maintenance: fc.integer({ min: 0, max: 1 }),
    odd: fc.boolean(),
    inFlight: fc.boolean(),
  })
  .map((o) => {
    const snap = randomCluster({
      seed: o.seed,
      hosts: o.hosts,
      vms: o.vms,
      hostKinds: o.mixed ? 'mixed' : 'equal',
      fill: o.fill,
      skew: o.skew,
      antiAffinityRules: o.anti,
      affinityRules: o.affinity,
      vmHostRules: o.vmHost,
      softShare: o.softShare,
      enteringMaintenance: o.maintenance,
      poweredOffShare: o.odd ? 0.15 : 0,
      disabledShare: o.odd ? 0.1 : 0,
      cooldownShare: o.odd ? 0.1 : 0,
    });
    if (o.odd && o.hosts > 2) snap.hosts[o.hosts - 1].state = 'disconnected';
    if (o.inFlight && snap.vms.length > 1) {
      const moving = snap.vms[snap.vms.length - 1];
      moving.migrating = true;
      const to = snap.hosts.find((h) => h.id !== moving.hostId)!;
      snap.inFlight.push({
        vmId: moving.id,
        fromHostId: moving.hostId,
        toHostId: to.id,
        memoryMib: moving.memoryMib,
        cpuMhz: moving.cpuMhz,
      });
    }
    return snap;
  });

const policyArb = fc
  .record({
    migrationThreshold: fc.integer({ min: 1, max: 5 }),
    cpuWeight: fc.constantFrom(0.5, 0.3, 1),
    maxMovesPerPass: fc.constantFrom(5, 40, 1000),
    maxMovesPerHost: fc.constantFrom(3, 1000),
    memoryCeiling: fc.constantFrom(1, 0.9),
    cpuCeiling: fc.constantFrom(1, 0.85),
  })
  .map((p): PlannerPolicy => ({ ...DEFAULT_PLANNER_POLICY, ...p, memoryWeight: 1 - p.cpuWeight }));

/** Hard-rule violations of a placement, as strings. */
function hardViolations(snap: ClusterSnapshot): Set<string> {
  const hostOf = new Map(snap.vms.map((v) => [v.id, v.hostId]));
  const out = new Set<string>();
  for (const r of snap.rules) {
    if (r.enforcement !== 'hard') continue;
    const members = [...new Set(r.vmIds)].filter((id) => hostOf.has(id));
    if (r.kind === 'anti-affinity') {
      const seen = new Map<string, number>();
      for (const id of members) seen.set(hostOf.get(id)!, (seen.get(hostOf.get(id)!) ?? 0) + 1);
      for (const [h, n] of seen) if (n > 1) out.add(`anti ${r.id} ${h}`);
    } else if (r.kind === 'affinity') {
      if (new Set(members.map((id) => hostOf.get(id))).size > 1) out.add(`affinity ${r.id}`);
    } else {
      for (const id of members) {
        const inSet = (r.hostIds ?? []).includes(hostOf.get(id)!);
        if ((r.relation ?? 'run-on') === 'run-on' ? !inSet : inSet) out.add(`vm-host ${r.id} ${id}`);
      }
    }
  }
  return out;
}

/** Moves grouped into the steps that execute together (a group shares a groupId). */
function steps(plan: Plan): PlannedMove[][] {
  const out: PlannedMove[][] = [];
  for (const m of plan.moves) {
    const last = out[out.length - 1];
    if (m.groupId !== undefined && last && last[0].groupId === m.groupId) last.push(m);
    else out.push([m]);
  }
  return out;
}

function memoryLoad(snap: ClusterSnapshot, hostId: string): { cpu: number; mem: number } {
  let cpu = 0;
  let mem = 0;
  for (const v of snap.vms) {
    if (v.hostId === hostId && v.poweredOn) {
      cpu += v.cpuMhz;
      mem += v.memoryMib;
    }
  }
  for (const f of snap.inFlight) if (f.toHostId === hostId) mem += f.memoryMib;
  return { cpu, mem };
}

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('planMoves properties', () => {
  it('no step of a plan breaks a hard constraint', () => {
    fc.assert(
      fc.property(clusterArb, policyArb, (snap, policy) => {
        const plan = planMoves(snap, policy);
        let state = snap;
        for (const step of steps(plan)) {
          const before = hardViolations(state);
          const next = applyPlan(state, { moves: step });
          const target = snap.hosts.find((h) => h.id === step[0].toHostId)!;
          expect(target.state).toBe('connected');
          for (const m of step) {
            const v = snap.vms.find((x) => x.id === m.vmId)!;
            expect(v.automation).not.toBe('disabled');
            expect(v.migrating).toBe(false);
            expect(snap.hosts.find((h) => h.id === m.fromHostId)!.state).not.toBe('disconnected');
            if (m.reason.startsWith('balance')) expect(v.inCooldown ?? false).toBe(false);
          }
          // The target stays within the ceilings for every resource the step adds load on.
          const load = memoryLoad(next, target.id);
          const adds = step.map((m) => snap.vms.find((x) => x.id === m.vmId)!).filter((v) => v.poweredOn);
          if (adds.some((v) => v.cpuMhz > 0)) expect(load.cpu).toBeLessThanOrEqual(target.cpuCapacityMhz * policy.cpuCeiling + 1e-6);
          if (adds.some((v) => v.memoryMib > 0))
            expect(load.mem).toBeLessThanOrEqual(target.memoryCapacityMib * policy.memoryCeiling + 1e-6);
          // No new hard-rule violation, ever.
          for (const violation of hardViolations(next)) expect(before.has(violation)).toBe(true);
          state = next;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('every balancing move lowers I, mandatory moves come first, budgets hold', () => {
    fc.assert(
      fc.property(clusterArb, policyArb, (snap, policy) => {
        const plan = planMoves(snap, policy);
        const firstOptional = plan.moves.findIndex((m) => m.priority > 1);
        if (firstOptional >= 0) expect(plan.moves.slice(firstOptional).every((m) => m.priority > 1)).toBe(true);
        let state = snap;
        for (const step of steps(plan)) {
          const next = applyPlan(state, { moves: step });
          if (step[0].reason.startsWith('balance')) {
            expect(balanceReport(next, policy).imbalance).toBeLessThan(balanceReport(state, policy).imbalance);
            expect(step[0].priority).toBeGreaterThanOrEqual(2);
          }
          state = next;
        }
        const optional = plan.moves.filter((m) => m.priority > 1);
        if (optional.length > 0)
          expect(plan.moves.length).toBeLessThanOrEqual(Math.max(policy.maxMovesPerPass, plan.moves.length - optional.length));
        if (policy.migrationThreshold === 1) expect(optional).toEqual([]);
        // Balancing moves a VM at most once per plan, and never one a mandatory move placed (no chains).
        // (Mandatory fixes of tangled rule sets may legitimately move a VM twice.)
        const balancing = plan.moves.filter((m) => m.reason.startsWith('balance')).map((m) => m.vmId);
        const others = new Set(plan.moves.filter((m) => !m.reason.startsWith('balance')).map((m) => m.vmId));
        expect(new Set(balancing).size).toBe(balancing.length);
        expect(balancing.filter((id) => others.has(id))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('replanning after applying a plan makes no balancing move (no ping-pong)', () => {
    const roomy = policyArb.map((p) => ({ ...p, maxMovesPerPass: 1000, maxMovesPerHost: 1000 }));
    fc.assert(
      fc.property(clusterArb, roomy, (snap, policy) => {
        const plan = planMoves(snap, policy);
        fc.pre(plan.softRulesRelaxed === undefined);
        const after0 = applyPlan(snap, plan);
        // A mandatory fix that found no room this pass may succeed in the next one, once balancing freed
        // room: that is progress, not ping-pong. So: plans that left no mandatory work undone.
        fc.pre(hardViolations(after0).size === 0);
        fc.pre(balanceReport(after0, policy).hosts.every((h) => h.state !== 'connected' || h.memory <= policy.memoryCeiling + 1e-9));
        fc.pre(snap.hosts.every((h) => h.state !== 'entering-maintenance' || after0.vms.every((v) => v.hostId !== h.id)));
        // As the scheduler does, VMs that just moved are in cooldown for the next pass.
        const moved = new Set(plan.moves.map((m) => m.vmId));
        const after = applyPlan(snap, plan);
        const next = { ...after, vms: after.vms.map((v) => (moved.has(v.id) ? { ...v, inCooldown: true } : v)) };
        const again = planMoves(next, policy);
        expect(again.moves.filter((m) => m.reason.startsWith('balance'))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic, whatever the order of the input arrays', () => {
    fc.assert(
      fc.property(clusterArb, policyArb, fc.integer(), (snap, policy, seed) => {
        const rnd = seededRandom(seed);
        const scrambled: ClusterSnapshot = {
          ...snap,
          hosts: shuffled(snap.hosts, rnd),
          vms: shuffled(snap.vms, rnd),
          rules: shuffled(snap.rules, rnd).map((r): RuleSnapshot => ({ ...r, vmIds: shuffled(r.vmIds, rnd) })),
        };
        expect(planMoves(scrambled, policy)).toEqual(planMoves(snap, policy));
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('empties a host entering maintenance whenever the rest of the cluster has room', () => {
    const roomyCluster = fc
      .record({
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        hosts: fc.integer({ min: 3, max: 8 }),
        vms: fc.integer({ min: 1, max: 40 }),
        fill: fc.double({ min: 0.1, max: 0.5, noNaN: true }),
        anti: fc.integer({ min: 0, max: 2 }),
        affinity: fc.integer({ min: 0, max: 2 }),
      })
      .map((o) =>
        randomCluster({
          seed: o.seed,
          hosts: o.hosts,
          vms: o.vms,
          fill: o.fill,
          skew: 0.5,
          antiAffinityRules: o.anti,
          affinityRules: o.affinity,
          softShare: 0.5,
          enteringMaintenance: 1,
        }),
      );
    fc.assert(
      fc.property(roomyCluster, policyArb, (snap, policy) => {
        // "Room": the other hosts could take all the load at 80 % of the ceilings, every VM fits on any of them
        // with that slack, and anti-affinity groups are no larger than the other hosts.
        const others = snap.hosts.filter((h) => h.state === 'connected');
        const sum = <T>(f: (x: T) => number, xs: T[]) => xs.reduce((a, x) => a + f(x), 0);
        const on = snap.vms.filter((v) => v.poweredOn);
        fc.pre(sum((v) => v.cpuMhz, on) <= 0.8 * policy.cpuCeiling * sum((h) => h.cpuCapacityMhz, others));
        fc.pre(sum((v) => v.memoryMib, on) <= 0.8 * policy.memoryCeiling * sum((h) => h.memoryCapacityMib, others));
        const minCpu = Math.min(...others.map((h) => h.cpuCapacityMhz));
        const minMem = Math.min(...others.map((h) => h.memoryCapacityMib));
        fc.pre(on.every((v) => v.cpuMhz <= 0.2 * policy.cpuCeiling * minCpu && v.memoryMib <= 0.2 * policy.memoryCeiling * minMem));
        fc.pre(snap.rules.every((r) => r.kind !== 'anti-affinity' || r.vmIds.length <= others.length));
        // Hard rules that the rest of the cluster can satisfy at all: no clash between affinity and anti-affinity.
        const together = new Set(snap.rules.filter((r) => r.kind === 'affinity').flatMap((r) => r.vmIds));
        fc.pre(snap.rules.every((r) => r.kind !== 'anti-affinity' || r.vmIds.filter((id) => together.has(id)).length <= 1));
        const plan = planMoves(snap, policy);
        const after = applyPlan(snap, plan);
        expect(after.vms.filter((v) => v.hostId === snap.hosts[0].id).map((v) => v.id)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
