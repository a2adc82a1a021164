import { DEFAULT_PLANNER_POLICY } from './model';
import { PlanningState } from './planning-state';
import { balanceReport, balancingPriority, gapLimitFor, imbalanceTarget, populationStdDev } from './scoring';
import { cluster, host, vm } from '../../../test/builders/builders';
import { randomCluster } from '../../../test/builders/random-cluster';

const policy = DEFAULT_PLANNER_POLICY;

describe('load model and imbalance', () => {
  // Two connected hosts of 1000 MHz / 1000 MiB.
  //   a: web (600 MHz, 200 MiB)  → u_cpu 0.6, u_mem 0.2
  //   b: db  (200 MHz, 400 MiB)  → u_cpu 0.2, u_mem 0.4
  //   b also holds a powered-off VM (does not count).
  // σ_cpu = 0.2, σ_mem = 0.1, I = sqrt(0.5·0.04 + 0.5·0.01) = sqrt(0.025) ≈ 0.158114
  // target(L=3, N=2) = 2 / (10·√2) ≈ 0.141421 → unbalanced; gap = max(0.4, 0.2) = 0.4.
  const twoHosts = cluster(
    [host('a'), host('b')],
    [vm('web', 'a', 600, 200), vm('db', 'b', 200, 400), vm('off', 'b', 900, 900, { poweredOn: false })],
  );

  it('computes utilization, σ per resource and I by hand', () => {
    const r = balanceReport(twoHosts, policy);
    expect(r.hosts).toEqual([
      { hostId: 'a', hostName: 'a', state: 'connected', cpu: 0.6, memory: 0.2 },
      { hostId: 'b', hostName: 'b', state: 'connected', cpu: 0.2, memory: 0.4 },
    ]);
    expect(r.sigmaCpu).toBeCloseTo(0.2, 12);
    expect(r.sigmaMemory).toBeCloseTo(0.1, 12);
    expect(r.imbalance).toBeCloseTo(Math.sqrt(0.025), 12);
    expect(r.target).toBeCloseTo(0.2 / Math.sqrt(2), 12);
    expect(r.maxMinGap).toBeCloseTo(0.4, 12);
    expect(r.gapLimit).toBe(0.2);
    expect(r.balanced).toBe(false);
  });

  it('weights the resources by the policy', () => {
    // cpu only: I = σ_cpu = 0.2
    expect(balanceReport(twoHosts, { ...policy, cpuWeight: 1, memoryWeight: 0 }).imbalance).toBeCloseTo(0.2, 12);
    // 0.8/0.2: sqrt(0.8·0.04 + 0.2·0.01) = sqrt(0.034)
    expect(balanceReport(twoHosts, { ...policy, cpuWeight: 0.8, memoryWeight: 0.2 }).imbalance).toBeCloseTo(Math.sqrt(0.034), 12);
  });

  it('counts only connected hosts in σ, and in-flight reservations on the target memory', () => {
    // c is in maintenance with a busy VM: reported, but not in σ. An in-flight migration reserves 300 MiB on b:
    // u_mem(b) = (400 + 300) / 1000 = 0.7; σ_mem over {0.2, 0.7} = 0.25; σ_cpu still 0.2.
    const snap = cluster(
      [host('a'), host('b'), host('c', 1000, 1000, 'maintenance')],
      [vm('web', 'a', 600, 200), vm('db', 'b', 200, 400), vm('busy', 'c', 1000, 1000)],
      [],
      { inFlight: [{ vmId: 'web', fromHostId: 'a', toHostId: 'b', memoryMib: 300, cpuMhz: 600 }] },
    );
    const r = balanceReport(snap, policy);
    expect(r.connectedHosts).toBe(2);
    expect(r.hosts.find((h) => h.hostId === 'c')!.cpu).toBe(1);
    expect(r.hosts.find((h) => h.hostId === 'b')!.memory).toBeCloseTo(0.7, 12);
    expect(r.sigmaMemory).toBeCloseTo(0.25, 12);
    expect(r.imbalance).toBeCloseTo(Math.sqrt(0.5 * 0.04 + 0.5 * 0.0625), 12);
  });

  it('divides utilization by each host capacity', () => {
    // a: 500/2000 = 0.25 cpu, 500/500 = 1.0 mem; b: 500/1000 = 0.5 cpu, 0 mem.
    const snap = cluster([host('a', 2000, 500), host('b', 1000, 1000)], [vm('x', 'a', 500, 500), vm('y', 'b', 500, 0)]);
    const r = balanceReport(snap, policy);
    expect(r.hosts.map((h) => [h.cpu, h.memory])).toEqual([
      [0.25, 1],
      [0.5, 0],
    ]);
    expect(r.maxMinGap).toBeCloseTo(1, 12);
  });

  it('is balanced when I is under target and the gap is within the limit', () => {
    // u_cpu = 0.50 / 0.55, u_mem = 0.5 / 0.5: σ_cpu = 0.025, I = sqrt(0.5·0.000625) ≈ 0.01768 < 0.1414, gap 0.05 < 0.2.
    const snap = cluster([host('a'), host('b')], [vm('x', 'a', 500, 500), vm('y', 'b', 550, 500)]);
    const r = balanceReport(snap, policy);
    expect(r.imbalance).toBeCloseTo(Math.sqrt(0.5 * 0.025 ** 2), 12);
    expect(r.balanced).toBe(true);
    // At L = 5 the target is 0 and the gap limit 5 %: the same cluster is unbalanced.
    expect(balanceReport(snap, { ...policy, migrationThreshold: 5 }).balanced).toBe(false);
  });

  it('fails the gap condition even when I is under target', () => {
    // 16 hosts: one at 0.35 cpu, fifteen at 0.10 → σ_cpu = 0.25·sqrt(15)/16 ≈ 0.0605, I ≈ 0.0428 < target 0.05,
    // but the gap 0.25 > 0.20 at L = 3.
    const hosts = Array.from({ length: 16 }, (_, i) => host(`h${String(i).padStart(2, '0')}`));
    const vms = hosts.map((h, i) => vm(`v${i}`, h.id, i === 0 ? 350 : 100, 100));
    const r = balanceReport(cluster(hosts, vms), policy);
    expect(r.imbalance).toBeCloseTo((Math.sqrt(0.5) * 0.25 * Math.sqrt(15)) / 16, 12);
    expect(r.imbalance).toBeLessThan(r.target);
    expect(r.maxMinGap).toBeCloseTo(0.25, 12);
    expect(r.balanced).toBe(false);
  });

  it('follows DRS target, gap and priority rules', () => {
    // N = 16: target = (5 − L) / 40
    expect(imbalanceTarget(1, 16)).toBeCloseTo(0.1, 12);
    expect(imbalanceTarget(3, 16)).toBeCloseTo(0.05, 12);
    expect(imbalanceTarget(5, 16)).toBe(0);
    expect([1, 2, 3, 4, 5].map(gapLimitFor)).toEqual([null, 0.3, 0.2, 0.1, 0.05]);
    // p = 6 − ceil(10·I·√N): N = 16, I = 0.05 → 10·0.05·4 = 2 → p = 4; I = 0.051 → ceil(2.04) = 3 → p = 3.
    expect(balancingPriority(0.05, 16)).toBe(4);
    expect(balancingPriority(0.051, 16)).toBe(3);
    expect(balancingPriority(0.5, 16)).toBe(2); // clamped
    expect(balancingPriority(0, 16)).toBe(5); // clamped
    expect(populationStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
  });

  it('scores a candidate move from the running sums exactly as a full recomputation', () => {
    const snap = randomCluster({ hosts: 12, vms: 120, seed: 7, hostKinds: 'mixed' });
    snap.hosts[3].state = 'maintenance';
    const state = new PlanningState(snap, policy, { enforceSoftRules: true });
    for (let v = 0; v < 120; v += 7) {
      const from = state.vmHost[v];
      for (let to = 0; to < state.hostCount; to++) {
        if (to === from) continue;
        const predicted = state.imbalanceAfter(state.vmCpu[v], state.vmMem[v], from, to);
        const moved = { ...snap, vms: snap.vms.map((x) => (x.id === state.vms[v].id ? { ...x, hostId: state.hosts[to].id } : x)) };
        expect(predicted).toBeCloseTo(balanceReport(moved, policy).imbalance, 12);
      }
    }
  });

  it('measures the sampling noise of the demand estimates by hand, and the planner keeps it as the VMs move', () => {
    // Three connected hosts (a and c of 1000 MHz, b of 2000 MHz) and one in maintenance. Counted: x on a,
    // σ 60 MHz over 4 samples → 3600/4 = 900 MHz²; y on b, σ 200 over 10 → 4000 MHz². Not counted: z with one
    // sample, w powered off, v on the host in maintenance, u without a spread.
    const snap = cluster(
      [host('a'), host('b', 2000), host('c'), host('m', 1000, 1000, 'entering-maintenance')],
      [
        vm('x', 'a', 300, 100, { cpuSigmaMhz: 60, cpuSampleCount: 4 }),
        vm('y', 'b', 600, 100, { cpuSigmaMhz: 200, cpuSampleCount: 10 }),
        vm('z', 'c', 300, 100, { cpuSigmaMhz: 500, cpuSampleCount: 1 }),
        vm('w', 'c', 300, 100, { cpuSigmaMhz: 500, cpuSampleCount: 12, poweredOn: false }),
        vm('v', 'm', 300, 100, { cpuSigmaMhz: 500, cpuSampleCount: 12 }),
        vm('u', 'c', 300, 100, { cpuSampleCount: 12 }),
      ],
    );
    // Σ s_h² = 900 / 1000² + 4000 / 2000² = 0.0009 + 0.001 = 0.0019; noise² = 0.5 · 0.0019 · (1 − 1/3) / 3.
    const expected = Math.sqrt((0.5 * 0.0019 * (2 / 3)) / 3);
    expect(balanceReport(snap, policy).samplingNoise).toBeCloseTo(expected, 12);
    const state = new PlanningState(snap, policy, { enforceSoftRules: true });
    expect(state.samplingNoise()).toBeCloseTo(expected, 12);
    // y moves to c (1000 MHz): its 4000 MHz² now weigh 4000 / 1000² = 0.004; Σ s_h² = 0.0049.
    state.applyMove({
      vms: [state.vmIndexById.get('y')!],
      from: state.hostIndexById.get('b')!,
      to: state.hostIndexById.get('c')!,
      purpose: 'balance',
    });
    expect(state.samplingNoise()).toBeCloseTo(Math.sqrt((0.5 * 0.0049 * (2 / 3)) / 3), 12);
    // Without spreads there is none.
    expect(balanceReport(cluster([host('a'), host('b')], [vm('x', 'a', 300, 100, { cpuSampleCount: 12 })]), policy).samplingNoise).toBe(0);
  });
});
