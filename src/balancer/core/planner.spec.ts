import { ClusterSnapshot, DEFAULT_PLANNER_POLICY, Plan, PlannerPolicy } from './model';
import { applyPlan, planMoves } from './planner';
import { balanceReport } from './scoring';
import { cluster, host, vm } from '../../../test/builders/builders';
import { randomCluster } from '../../../test/builders/random-cluster';

const policy: PlannerPolicy = { ...DEFAULT_PLANNER_POLICY };
const hostOf = (snap: ClusterSnapshot, plan: Plan, vmId: string) => applyPlan(snap, plan).vms.find((v) => v.id === vmId)!.hostId;

describe('planMoves: mandatory moves', () => {
  it('evacuates a host entering maintenance, powered-off VMs included, with priority 1', () => {
    const snap = cluster(
      [host('a', 1000, 1000, 'entering-maintenance'), host('b'), host('c')],
      [vm('v1', 'a', 300, 300), vm('v2', 'a', 200, 200), vm('off', 'a', 100, 100, { poweredOn: false }), vm('w', 'b', 100, 100)],
    );
    const plan = planMoves(snap, policy);
    const evacuations = plan.moves.filter((m) => m.reason === 'maintenance');
    expect(evacuations.map((m) => m.vmId).sort()).toEqual(['off', 'v1', 'v2']);
    expect(evacuations.every((m) => m.priority === 1 && m.fromHostId === 'a')).toBe(true);
    expect(applyPlan(snap, plan).vms.filter((v) => v.hostId === 'a')).toEqual([]);
    // Powered-off VMs copy no memory.
    expect(evacuations.find((m) => m.vmId === 'off')!.cost).toBe(0);
    expect(evacuations.find((m) => m.vmId === 'v1')!.explanation).toContain('a is entering maintenance');
  });

  it('leaves a disabled VM on a host entering maintenance and says why', () => {
    const snap = cluster(
      [host('a', 1000, 1000, 'entering-maintenance'), host('b')],
      [vm('pinned', 'a', 100, 100, { automation: 'disabled' }), vm('free', 'a', 100, 100)],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves.map((m) => m.vmId)).toEqual(['free']);
    expect(plan.notMoved).toEqual([expect.objectContaining({ vmId: 'pinned', reason: 'pinned', hostId: 'a' })]);
  });

  it('does not evacuate onto a host without room and reports no-room', () => {
    const snap = cluster(
      [host('a', 1000, 1000, 'entering-maintenance'), host('b')],
      [vm('big', 'a', 500, 700), vm('there', 'b', 100, 500)],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves).toEqual([]);
    expect(plan.notMoved[0]).toMatchObject({ vmId: 'big', reason: 'no-room' });
    expect(plan.notMoved[0].explanation).toMatch(/memory/);
  });

  it('fixes a hard anti-affinity violation before a hard vm-host one, and both before balancing', () => {
    const snap = cluster(
      [host('a'), host('b'), host('c')],
      [vm('db1', 'a', 100, 100), vm('db2', 'a', 100, 100), vm('lic', 'a', 100, 100), vm('x', 'a', 300, 300)],
      [
        { id: 'r-host', name: 'licensed', kind: 'vm-host', enforcement: 'hard', vmIds: ['lic'], hostIds: ['c'], relation: 'run-on' },
        { id: 'r-anti', name: 'db-apart', kind: 'anti-affinity', enforcement: 'hard', vmIds: ['db1', 'db2'] },
      ],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves[0]).toMatchObject({ reason: 'rule-violation', ruleId: 'r-anti', priority: 1 });
    expect(plan.moves[1]).toMatchObject({ vmId: 'lic', toHostId: 'c', reason: 'rule-violation', ruleId: 'r-host', priority: 1 });
    expect(plan.moves[0].explanation).toContain('db-apart');
    const after = applyPlan(snap, plan);
    const hostOfVm = (id: string) => after.vms.find((v) => v.id === id)!.hostId;
    expect(hostOfVm('db1')).not.toBe(hostOfVm('db2'));
    expect(plan.moves.slice(2).every((m) => m.priority > 1)).toBe(true);
  });

  it('gathers a split hard affinity group on one host', () => {
    const snap = cluster(
      [host('a'), host('b'), host('c')],
      [vm('app', 'a', 100, 100), vm('cache', 'b', 100, 100), vm('y', 'c', 100, 100)],
      [{ id: 'r-aff', name: 'app-cache', kind: 'affinity', enforcement: 'hard', vmIds: ['app', 'cache'] }],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0]).toMatchObject({ reason: 'rule-violation', ruleId: 'r-aff', priority: 1 });
    expect(hostOf(snap, plan, 'app')).toBe(hostOf(snap, plan, 'cache'));
  });

  it('moves a hard affinity group as one unit when balancing', () => {
    // a: the pair (2 × 200) + z + w (100 each, automation disabled) = 0.6 on both resources, b empty.
    // Only the pair may move: it leaves 0.2 / 0.4 (σ = 0.1).
    const snap = cluster(
      [host('a'), host('b')],
      [
        vm('app', 'a', 200, 200),
        vm('cache', 'a', 200, 200),
        vm('z', 'a', 100, 100, { automation: 'disabled' }),
        vm('w', 'a', 100, 100, { automation: 'disabled' }),
      ],
      [{ id: 'r-aff', name: 'app-cache', kind: 'affinity', enforcement: 'hard', vmIds: ['app', 'cache'] }],
    );
    const plan = planMoves(snap, policy);
    const group = plan.moves.filter((m) => m.vmId === 'app' || m.vmId === 'cache');
    expect(group).toHaveLength(2);
    expect(group[0].groupId).toBeDefined();
    expect(group[0].groupId).toBe(group[1].groupId);
    expect(group[0].toHostId).toBe(group[1].toHostId);
    expect(hostOf(snap, plan, 'app')).toBe(hostOf(snap, plan, 'cache'));
  });

  it('counts an affinity group as one migration per member: two single VMs balance as well for half the memory', () => {
    // a: the pair (2 × 200) + z + w (100 each) = 0.6, b empty. Moving the pair (two migrations, 400 MiB)
    // leaves 0.2 / 0.4; moving z then w (two migrations, 200 MiB) leaves 0.4 / 0.2: the same σ = 0.1.
    // Per migration, z pays more than the pair (σ 0.3 → 0.2 for one VM against 0.3 → 0.1 for two).
    const snap = cluster(
      [host('a'), host('b')],
      [vm('app', 'a', 200, 200), vm('cache', 'a', 200, 200), vm('z', 'a', 100, 100), vm('w', 'a', 100, 100)],
      [{ id: 'r-aff', name: 'app-cache', kind: 'affinity', enforcement: 'hard', vmIds: ['app', 'cache'] }],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves.map((m) => m.vmId).sort()).toEqual(['w', 'z']);
    expect(plan.after.imbalance).toBeCloseTo(0.1, 9);
    expect(hostOf(snap, plan, 'app')).toBe('a');
    expect(hostOf(snap, plan, 'cache')).toBe('a');
  });

  it('relieves overcommitted memory with priority 1', () => {
    // a: 1200 MiB on 1000 MiB (120 %); b is empty.
    const snap = cluster([host('a'), host('b')], [vm('m1', 'a', 100, 700), vm('m2', 'a', 100, 500)]);
    const plan = planMoves(snap, { ...policy, migrationThreshold: 1 });
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0]).toMatchObject({ reason: 'overcommit', priority: 1, fromHostId: 'a', toHostId: 'b' });
    expect(plan.moves[0].explanation).toMatch(/overcommitted at 120\.0 %/);
    expect(plan.after.hosts.every((h) => h.memory <= 1)).toBe(true);
  });

  it('counts memory reserved by in-flight migrations on the target', () => {
    // b has 600 MiB used + 300 reserved: the 200 MiB VM from the maintenance host does not fit there (1100 > 1000).
    const snap = cluster(
      [host('a', 1000, 1000, 'entering-maintenance'), host('b'), host('c')],
      [vm('v', 'a', 10, 200), vm('busy-b', 'b', 10, 600), vm('busy-c', 'c', 10, 750), vm('mig', 'c', 10, 10, { migrating: true })],
      [],
      { inFlight: [{ vmId: 'mig', fromHostId: 'c', toHostId: 'b', memoryMib: 300, cpuMhz: 10 }] },
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves.find((m) => m.vmId === 'v')!.toHostId).toBe('c');
    expect(plan.moves.some((m) => m.vmId === 'mig')).toBe(false);
  });
});

describe('planMoves: balancing', () => {
  it('moves nothing in a balanced cluster', () => {
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 500, 500), vm('y', 'b', 520, 480)]);
    expect(planMoves(snap, policy).moves).toEqual([]);
  });

  it('makes only mandatory moves at threshold 1', () => {
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 400, 400), vm('y', 'a', 400, 400)]);
    expect(planMoves(snap, { ...policy, migrationThreshold: 1 }).moves).toEqual([]);
    expect(planMoves(snap, policy).moves).toHaveLength(1);
  });

  it('balances an unbalanced pair of hosts and explains the move', () => {
    // a: 800 MHz / 800 MiB in two VMs, b empty → moving one VM gives 0.4 / 0.4 on both: I = 0.
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 400, 400), vm('y', 'a', 400, 400)]);
    const plan = planMoves(snap, policy);
    expect(plan.moves).toHaveLength(1);
    const [m] = plan.moves;
    expect(m).toMatchObject({ vmId: 'x', fromHostId: 'a', toHostId: 'b' });
    expect(m.reason).toMatch(/^balance-/);
    // I before: σ = 0.4 on both resources → I = 0.4; p = 6 − ceil(10·0.4·√2) = 6 − 6 → clamped to 2.
    expect(m.priority).toBe(2);
    expect(m.gain).toBeCloseTo(0.4, 12);
    expect(m.imbalanceAfter).toBeCloseTo(0, 12);
    expect(m.explanation).toContain('a is loaded at CPU 80.0 %');
    expect(plan.after.balanced).toBe(true);
  });

  it('names the resource it balances', () => {
    // CPU differs (0.6 vs 0.01), memory does not (0.02 vs 0.02): moving a CPU hog balances CPU.
    const snap = cluster([host('a'), host('b')], [vm('hog1', 'a', 300, 10), vm('hog2', 'a', 300, 10), vm('small', 'b', 10, 20)]);
    expect(planMoves(snap, policy).moves[0]).toMatchObject({ vmId: 'hog1', reason: 'balance-cpu' });
    const snap2 = cluster([host('a'), host('b')], [vm('hog1', 'a', 10, 300), vm('hog2', 'a', 10, 300), vm('small', 'b', 20, 10)]);
    expect(planMoves(snap2, policy).moves[0]).toMatchObject({ vmId: 'hog1', reason: 'balance-memory' });
  });

  it('does not move VMs in cooldown for balancing, and says why', () => {
    const snap = cluster(
      [host('a'), host('b')],
      [vm('x', 'a', 400, 400, { inCooldown: true }), vm('y', 'a', 400, 400, { inCooldown: true })],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves).toEqual([]);
    expect(plan.notMoved.map((n) => n.reason)).toEqual(['cooldown', 'cooldown']);
  });

  it('never moves a migrating or disabled VM', () => {
    const snap = cluster(
      [host('a'), host('b')],
      [vm('x', 'a', 400, 400, { migrating: true }), vm('y', 'a', 400, 400, { automation: 'disabled' })],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves).toEqual([]);
    expect(plan.notMoved.map((n) => [n.vmId, n.reason])).toEqual([
      ['x', 'migrating'],
      ['y', 'pinned'],
    ]);
  });

  it('stops at the per-pass and per-host budgets', () => {
    const snap = randomCluster({ hosts: 12, vms: 300, seed: 11, skew: 2 });
    const plan = planMoves(snap, { ...policy, migrationThreshold: 5, maxMovesPerPass: 7, maxMovesPerHost: 3 });
    expect(plan.moves).toHaveLength(7);
    const perHost = new Map<string, number>();
    for (const m of plan.moves) for (const h of [m.fromHostId, m.toHostId]) perHost.set(h, (perHost.get(h) ?? 0) + 1);
    expect(Math.max(...perHost.values())).toBeLessThanOrEqual(3);
    expect(plan.notMoved.some((n) => n.reason === 'budget')).toBe(true);
  });

  it('refuses moves that do not pay for their migration cost', () => {
    // Moving y would lower N·I² from 0.15 to 0.031 (a gain of 0.119), less than its cost: λ = 1 times
    // 1 GiB copied out of 1,000 MiB hosts. Threshold 5: no band, only moves that pay.
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 400, 400), vm('y', 'a', 200, 1024 / 10, { configuredMemoryMib: 1024 })]);
    const cheap = planMoves(snap, { ...policy, migrationThreshold: 5 });
    expect(cheap.moves.length).toBeGreaterThan(0);
    const expensive = planMoves(snap, { ...policy, migrationThreshold: 5, costWeight: 1 });
    expect(expensive.moves).toEqual([]);
    expect(expensive.notMoved.map((n) => n.reason)).toContain('not-worth-cost');
  });

  it('relieves a host above the band even when no move pays for itself', () => {
    // Same cluster at threshold 3: a is 30 points above the mean CPU (band: 20 points), so one VM
    // moves to b whatever λ says, and a ends 10 points from the mean.
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 400, 400), vm('y', 'a', 200, 1024 / 10, { configuredMemoryMib: 1024 })]);
    const plan = planMoves(snap, { ...policy, migrationThreshold: 3, costWeight: 1 });
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0]).toMatchObject({ fromHostId: 'a', toHostId: 'b', reason: 'above-band' });
    expect(Math.abs(plan.after.hosts.find((h) => h.hostId === 'a')!.cpu - 0.3)).toBeCloseTo(0.1, 6);
    // The sentence says why a move that does not pay is made: a at 60 % CPU, the mean 30 %.
    expect(plan.moves[0].explanation).toMatch(
      /^a is at CPU 60\.0 % \/ memory [0-9.]+ %, more than the band \(20 points\) above the cluster mean 30\.0 %/,
    );
    expect(plan.moves[0].explanation).toContain('A host above the band is relieved whatever the migration costs');
  });

  it('relieves a contended host first, with priority 2 and the reason contention', () => {
    // a's VMs demand 1,200 MHz of its 1,000: they wait for CPU. c is the emptiest host.
    const snap = cluster(
      [host('a'), host('b'), host('c')],
      [vm('p', 'a', 700, 100), vm('q', 'a', 500, 100), vm('r', 'b', 500, 100), vm('s', 'c', 100, 100)],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves[0]).toMatchObject({ fromHostId: 'a', reason: 'contention', priority: 2 });
    expect(plan.after.hosts.find((h) => h.hostId === 'a')!.cpu).toBeLessThanOrEqual(1);
  });

  it('respects the CPU ceiling on targets', () => {
    // b is at 70 % CPU; a 400 MHz VM would push it to 110 % with a 100 % ceiling... and to 80 %+ with 0.75 refused.
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 400, 10), vm('y', 'a', 500, 10), vm('z', 'b', 300, 10)]);
    const plan = planMoves(snap, { ...policy, cpuCeiling: 0.6 });
    for (const h of plan.after.hosts) if (plan.moves.some((m) => m.toHostId === h.hostId)) expect(h.cpu).toBeLessThanOrEqual(0.6);
  });

  it('keeps soft rules while it can, and relaxes them when a host would stay over its ceiling', () => {
    // A soft vm-host rule keeps both VMs on a, whose memory is overcommitted (1400 / 1000).
    const rule = {
      id: 'soft-1',
      name: 'prefer-a',
      kind: 'vm-host' as const,
      enforcement: 'soft' as const,
      vmIds: ['x', 'y'],
      hostIds: ['a'],
      relation: 'run-on' as const,
    };
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 100, 700), vm('y', 'a', 100, 700)], [rule]);
    const plan = planMoves(snap, policy);
    expect(plan.softRulesRelaxed).toEqual(['soft-1']);
    expect(plan.moves).toHaveLength(1);
    expect(plan.after.hosts.every((h) => h.memory <= 1)).toBe(true);
    // With room on a, the same soft rule is kept: nothing moves to b even though that would balance.
    const roomy = cluster([host('a'), host('b')], [vm('x', 'a', 100, 300), vm('y', 'a', 100, 300)], [rule]);
    const kept = planMoves(roomy, policy);
    expect(kept.softRulesRelaxed).toBeUndefined();
    expect(kept.moves).toEqual([]);
    expect(kept.notMoved[0]).toMatchObject({ reason: 'rule-forbids' });
  });

  it('brings a typical unbalanced cluster to its target with the default policy', () => {
    for (const seed of [1, 2, 3]) {
      const snap = randomCluster({ hosts: 16, vms: 320, seed, antiAffinityRules: 4, affinityRules: 2 });
      const plan = planMoves(snap, policy);
      expect(plan.before.balanced).toBe(false);
      expect(plan.after.balanced).toBe(true);
      expect(plan.moves.length).toBeLessThanOrEqual(policy.maxMovesPerPass);
    }
  });

  it('stops churning at threshold 5 once moves no longer pay', () => {
    const snap = randomCluster({ hosts: 8, vms: 80, seed: 5 });
    const plan = planMoves(snap, { ...policy, migrationThreshold: 5, maxMovesPerPass: 1000, maxMovesPerHost: 1000 });
    expect(plan.moves.length).toBeLessThan(80);
    // A VM moves at most once per pass; in the next pass the ones just moved are in cooldown.
    expect(new Set(plan.moves.map((m) => m.vmId)).size).toBe(plan.moves.length);
    const moved = new Set(plan.moves.map((m) => m.vmId));
    const after = applyPlan(snap, plan);
    const next = { ...after, vms: after.vms.map((v) => ({ ...v, inCooldown: moved.has(v.id) })) };
    const again = planMoves(next, { ...policy, migrationThreshold: 5, maxMovesPerPass: 1000, maxMovesPerHost: 1000 });
    expect(again.moves).toEqual([]);
  });

  it('reports before and after as balanceReport does', () => {
    const snap = randomCluster({ hosts: 6, vms: 40, seed: 9 });
    const plan = planMoves(snap, policy);
    expect(plan.before).toEqual(balanceReport(snap, policy));
    expect(plan.after).toEqual(balanceReport(applyPlan(snap, plan), policy));
    if (plan.moves.length > 0) expect(plan.moves[plan.moves.length - 1].imbalanceAfter).toBeCloseTo(plan.after.imbalance, 10);
  });

  it('plans the same moves whatever ids the database gave the hosts and VMs', () => {
    // The database gives random ids (UUIDs); a replay or a copy of the cluster must get the same plan, also when
    // equally good moves tie (identical VMs here).
    const names = ['a', 'b', 'c'];
    const vms = Array.from({ length: 8 }, (_, i) => vm(`v${i}`, 'a', 100, 80));
    const snap = cluster(
      names.map((n) => host(n)),
      [...vms, vm('w', 'b', 50, 50)],
    );
    // Ids in the opposite order of the names.
    const newId = (id: string) => `id-${String.fromCharCode(255 - id.charCodeAt(0))}${9 - Number(id.slice(1) || 0)}`;
    const relabelled: ClusterSnapshot = {
      ...snap,
      hosts: snap.hosts.map((h) => ({ ...h, id: newId(h.id) })),
      vms: snap.vms.map((v) => ({ ...v, id: newId(v.id), hostId: newId(v.hostId) })),
    };
    const hostName = (s: ClusterSnapshot, id: string) => s.hosts.find((h) => h.id === id)!.name;
    const named = (s: ClusterSnapshot, p: Plan) =>
      p.moves.map((m) => `${m.vmName}: ${hostName(s, m.fromHostId)} -> ${hostName(s, m.toHostId)}`);
    const plan = planMoves(snap, policy);
    expect(plan.moves.length).toBeGreaterThan(2);
    expect(named(relabelled, planMoves(relabelled, policy))).toEqual(named(snap, plan));
  });

  it('does not balance an excess over the target that the demand estimates sampling error accounts for', () => {
    // 16 hosts of 1000 MHz, CPU only. Eight at 0.56 (VMs of 300, 200, 60 MHz), eight at 0.44 (300, 140):
    // σ_cpu = 0.06 = I against a target of 0.2 / √16 = 0.05, gap 0.12 (limit 0.2). Moving a 60 MHz VM from
    // a busy host to a quiet one evens out both.
    const cpuOnly: PlannerPolicy = { ...policy, cpuWeight: 1, memoryWeight: 0 };
    const build = (sigma: number) =>
      cluster(
        Array.from({ length: 16 }, (_, i) => host(`h${String(i).padStart(2, '0')}`)),
        Array.from({ length: 16 }, (_, i) => {
          const h = `h${String(i).padStart(2, '0')}`;
          const estimate = { cpuSigmaMhz: sigma, cpuSampleCount: 4 };
          return i < 8
            ? [vm(`${h}-a`, h, 300, 10, estimate), vm(`${h}-b`, h, 200, 10), vm(`${h}-c`, h, 60, 10)]
            : [vm(`${h}-a`, h, 300, 10, estimate), vm(`${h}-b`, h, 140, 10)];
        }).flat(),
      );
    // Exact figures: the excess is real, and balancing moves the small VMs.
    const exact = planMoves(build(0), cpuOnly);
    expect(exact.before.imbalance).toBeCloseTo(0.06, 12);
    expect(exact.before.samplingNoise).toBe(0);
    expect(exact.before.balanced).toBe(false);
    expect(exact.before.balancedWithinNoise).toBe(false);
    expect(exact.moves.length).toBeGreaterThan(0);
    expect(exact.moves.every((m) => m.vmName.endsWith('-c'))).toBe(true);
    // Each host's mean of 4 samples of a VM with σ = 80 MHz is off by σ²/k = 1600 MHz², s² = 0.0016 of its
    // capacity²; the measured variance exceeds the true one by (1 − 1/16)·(1/16)·16·0.0016 = 0.0015:
    // noise √0.0015 ≈ 0.0387, and √(0.06² − 0.0015) ≈ 0.0458 is within the target. Nothing moves.
    const noisy = planMoves(build(80), cpuOnly);
    expect(noisy.before.samplingNoise).toBeCloseTo(Math.sqrt(0.0015), 12);
    expect(noisy.before.balanced).toBe(true);
    // I (0.06) itself is above the target (0.05): balanced within the noise, as the pass event and the dashboard say.
    expect(noisy.before.balancedWithinNoise).toBe(true);
    expect(noisy.moves).toEqual([]);
    // σ = 40 MHz: noise² = 0.000375, √(0.0036 − 0.000375) ≈ 0.0568 is above the target: balancing goes on.
    const lessNoisy = planMoves(build(40), cpuOnly);
    expect(lessNoisy.before.samplingNoise).toBeCloseTo(Math.sqrt(0.000375), 12);
    expect(lessNoisy.before.balanced).toBe(false);
    expect(lessNoisy.before.balancedWithinNoise).toBe(false);
    expect(lessNoisy.moves.length).toBeGreaterThan(0);
  });
});
