import fc from 'fast-check';
import { cluster, host, vm } from '../../../test/builders/builders';
import { contentionReport, hostContention } from './contention';

const FULL = { cpuCeiling: 1, memoryCeiling: 1 };

describe('contentionReport', () => {
  it('splits a short host in proportion to demand: 3,000 and 1,000 MHz on 2,000 MHz get half each', () => {
    const snapshot = cluster([host('h1', 2000, 1000)], [vm('big', 'h1', 3000, 0), vm('small', 'h1', 1000, 0)]);
    const report = contentionReport(snapshot, FULL);
    const byId = new Map(report.mostContendedVms.map((v) => [v.vmId, v]));
    expect(byId.get('big')!.cpuServedShare).toBeCloseTo(0.5, 12);
    expect(byId.get('small')!.cpuServedShare).toBeCloseTo(0.5, 12);
    expect(byId.get('big')!.contention).toBeCloseTo(0.5, 12);
    expect(report.score).toBeCloseTo(50, 9);
    expect(report.cpuDemandUnmetMhz).toBeCloseTo(2000, 9);
    expect(report.contendedVms).toBe(2);
    expect(report.hosts[0]).toMatchObject({ hostId: 'h1', cpuDemandMhz: 4000, cpuUsableMhz: 2000, contendedVms: 2, poweredOnVms: 2 });
  });

  it('serves reservations first, then the rest by unreserved demand', () => {
    // big: 1,500 reserved + 1,500 × (500 / 2,500) = 1,800 of 3,000 (0.6); small: 1,000 × 500 / 2,500 = 200 (0.2).
    const snapshot = cluster([host('h1', 2000, 1000)], [vm('big', 'h1', 3000, 0, { cpuReservationMhz: 1500 }), vm('small', 'h1', 1000, 0)]);
    const report = contentionReport(snapshot, FULL);
    expect(report.mostContendedVms.map((v) => [v.vmId, round(v.cpuServedShare), round(v.contention)])).toEqual([
      ['small', 0.2, 0.8],
      ['big', 0.6, 0.4],
    ]);
    // (3,000 × 0.6 + 1,000 × 0.2) / 4,000 = 0.5: the host serves half the demand, whoever gets it.
    expect(report.score).toBeCloseTo(50, 9);
  });

  it('scales reservations down alike when they alone exceed the host', () => {
    // Reserved 1,500 + min(1,500, 1,000) = 2,500 on 2,000 MHz: each gets 0.8 of its reservation and nothing more.
    const snapshot = cluster(
      [host('h1', 2000, 1000)],
      [vm('big', 'h1', 3000, 0, { cpuReservationMhz: 1500 }), vm('small', 'h1', 1000, 0, { cpuReservationMhz: 1500 })],
    );
    const shares = new Map(contentionReport(snapshot, FULL).mostContendedVms.map((v) => [v.vmId, round(v.cpuServedShare)]));
    expect(shares).toEqual(
      new Map([
        ['big', 0.4],
        ['small', 0.8],
      ]),
    );
  });

  it('counts active memory above capacity as swapping for every VM of the host', () => {
    // 800 + 450 = 1,250 MiB active on 1,000 MiB: each VM holds 0.8 of it in RAM.
    const snapshot = cluster([host('h1', 10_000, 1000)], [vm('a', 'h1', 100, 800), vm('b', 'h1', 100, 450)]);
    const report = contentionReport(snapshot, FULL);
    expect(report.mostContendedVms.map((v) => [v.vmId, round(v.memoryServedShare), v.cpuServedShare, round(v.contention)])).toEqual([
      ['a', 0.8, 1, 0.2],
      ['b', 0.8, 1, 0.2],
    ]);
    expect(report.memoryDemandUnmetMib).toBeCloseTo(250, 9);
    expect(report.cpuDemandUnmetMhz).toBe(0);
  });

  it('takes the worse of CPU and memory for a VM short of both', () => {
    // CPU 4,000 on 2,000 (0.5 each); memory 1,250 on 1,000 (0.8): contention 1 − 0.5.
    const snapshot = cluster([host('h1', 2000, 1000)], [vm('a', 'h1', 3000, 800), vm('b', 'h1', 1000, 450)]);
    const report = contentionReport(snapshot, FULL);
    expect(report.mostContendedVms.map((v) => round(v.contention))).toEqual([0.5, 0.5]);
    expect(report.score).toBeCloseTo(50, 9);
  });

  it('serves only up to the ceilings', () => {
    // 2,000 MHz × 0.8 = 1,600 usable for 2,000 demanded: 0.8 each; 1,000 MiB × 0.5 = 500 usable for 400: no swapping.
    const snapshot = cluster([host('h1', 2000, 1000)], [vm('a', 'h1', 1000, 200), vm('b', 'h1', 1000, 200)]);
    const report = contentionReport(snapshot, { cpuCeiling: 0.8, memoryCeiling: 0.5 });
    expect(report.mostContendedVms.map((v) => [round(v.cpuServedShare), v.memoryServedShare])).toEqual([
      [0.8, 1],
      [0.8, 1],
    ]);
    expect(report.hosts[0].cpuDemandUnmetMhz).toBeCloseTo(400, 9);
    expect(contentionReport(snapshot, FULL).contendedVms).toBe(0);
  });

  it('weights the score by demand across hosts, each resource by its share of the cluster', () => {
    // h1 serves half of 4,000 MHz, h2 all of its 4,000: (4,000 × 0.5 + 4,000 × 1) / 8,000 = 75.
    const cpuOnly = cluster(
      [host('h1', 2000, 1000), host('h2', 8000, 1000)],
      [vm('a', 'h1', 3000, 0), vm('b', 'h1', 1000, 0), vm('c', 'h2', 4000, 0)],
    );
    expect(contentionReport(cpuOnly, FULL).score).toBeCloseTo(75, 9);
    // With memory too: a and b each hold 100 of 300 MiB, c 100. Weights ½(3/8 + 1/3), ½(1/8 + 1/3), ½(1/2 + 1/3);
    // score = 100 × (0.5 × (17/48 + 11/48) + 1 × 20/48) = 100 × 34/48.
    const both = cluster(
      [host('h1', 2000, 1000), host('h2', 8000, 1000)],
      [vm('a', 'h1', 3000, 100), vm('b', 'h1', 1000, 100), vm('c', 'h2', 4000, 100)],
    );
    expect(contentionReport(both, FULL).score).toBeCloseTo((100 * 34) / 48, 9);
  });

  it('scores a relaxed cluster 100 with nobody contended', () => {
    const snapshot = cluster([host('h1', 2000, 1000), host('h2', 2000, 1000)], [vm('a', 'h1', 2000, 1000), vm('b', 'h2', 500, 10)]);
    const report = contentionReport(snapshot, FULL);
    expect(report).toMatchObject({ score: 100, contendedVms: 0, cpuDemandUnmetMhz: 0, memoryDemandUnmetMib: 0, mostContendedVms: [] });
    expect(contentionReport(cluster([host('h1')], []), FULL).score).toBe(100);
  });

  it('leaves out powered-off VMs', () => {
    const snapshot = cluster([host('h1', 2000, 1000)], [vm('on', 'h1', 1500, 500), vm('off', 'h1', 5000, 5000, { poweredOn: false })]);
    const report = contentionReport(snapshot, FULL);
    expect(report).toMatchObject({ score: 100, contendedVms: 0, poweredOnVms: 1, cpuDemandMhz: 1500, memoryActiveMib: 500 });
  });

  it('reads demand and active memory rather than the entitlement when the snapshot has them', () => {
    // Entitlements (raised to reservations, say) of 1,600 MHz and 900 MiB each would overcommit the host; demand does not.
    const snapshot = cluster(
      [host('h1', 2000, 1000)],
      [1, 2].map((i) => vm(`v${i}`, 'h1', 1600, 900, { cpuDemandMhz: 700, memoryActiveMib: 300 })),
    );
    expect(contentionReport(snapshot, FULL).contendedVms).toBe(0);
    const entitled = cluster(
      [host('h1', 2000, 1000)],
      [1, 2].map((i) => vm(`v${i}`, 'h1', 1600, 900)),
    );
    expect(contentionReport(entitled, FULL).contendedVms).toBe(2);
  });

  it('lists at most the top N contended VMs, most contended first', () => {
    // 30 VMs on 30 hosts of 1,000 MHz; VM i demands 1,000 + 100·i: contention 1 − 1,000 / (1,000 + 100·i).
    const hosts = Array.from({ length: 30 }, (_, i) => host(`h${i}`, 1000, 1000));
    const vms = hosts.map((h, i) => vm(`v${i}`, h.id, 1000 + 100 * i, 0));
    const report = contentionReport(cluster(hosts, vms), FULL);
    expect(report.contendedVms).toBe(29);
    expect(report.mostContendedVms.map((v) => v.vmId)).toEqual(Array.from({ length: 20 }, (_, k) => `v${29 - k}`));
    expect(report.mostContendedVms[0].contention).toBeCloseTo(1 - 1000 / 3900, 12);
    expect(contentionReport(cluster(hosts, vms), FULL, 3).mostContendedVms).toHaveLength(3);
  });
});

describe('hostContention', () => {
  it("gives one host's figures from the VMs given as its own", () => {
    const h1 = host('h1', 2000, 1000);
    const figures = hostContention(h1, [vm('a', 'h1', 1500, 700), vm('b', 'h1', 1500, 700), vm('c', 'h2', 9000, 9000)], FULL);
    expect(figures).toMatchObject({ cpuDemandMhz: 3000, cpuDemandUnmetMhz: 1000, memoryActiveMib: 1400, memoryDemandUnmetMib: 400 });
    expect(figures.contendedVms).toBe(2);
  });
});

function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

describe('contentionReport, properties', () => {
  const vmArb = fc.record({
    host: fc.nat({ max: 3 }),
    cpu: fc.integer({ min: 0, max: 8000 }),
    reservation: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4000 })),
    memory: fc.integer({ min: 0, max: 4000 }),
    on: fc.boolean(),
  });
  const clusterArb = fc.record({
    hosts: fc.array(fc.record({ cpu: fc.integer({ min: 1000, max: 20_000 }), memory: fc.integer({ min: 1000, max: 16_000 }) }), {
      minLength: 4,
      maxLength: 4,
    }),
    vms: fc.array(vmArb, { maxLength: 30 }),
    cpuCeiling: fc.double({ min: 0.5, max: 1, noNaN: true }),
  });
  type ClusterCase = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;
  const build = (c: ClusterCase) =>
    cluster(
      c.hosts.map((h, i) => host(`h${i}`, h.cpu, h.memory)),
      c.vms.map((v, i) => vm(`v${i}`, `h${v.host}`, v.cpu, v.memory, { cpuReservationMhz: v.reservation, poweredOn: v.on })),
    );

  it('serves each host min(demand, usable) of CPU, shares in 0..1, reserved VMs no worse off than the others', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const snapshot = build(c);
        const ceilings = { cpuCeiling: c.cpuCeiling, memoryCeiling: 1 };
        const report = contentionReport(snapshot, ceilings, Infinity);
        const short = new Map(report.mostContendedVms.map((v) => [v.vmId, v]));
        for (const [i, h] of snapshot.hosts.entries()) {
          const own = snapshot.vms.filter((v) => v.poweredOn && v.hostId === h.id);
          const demand = own.reduce((sum, v) => sum + v.cpuMhz, 0);
          const served = own.reduce((sum, v) => sum + v.cpuMhz * (short.get(v.id)?.cpuServedShare ?? 1), 0);
          expect(served).toBeCloseTo(Math.min(demand, h.cpuCapacityMhz * c.cpuCeiling), 6);
          expect(report.hosts[i].cpuDemandUnmetMhz).toBeCloseTo(demand - served, 6);
          const shares = own.map((v) => ({ reserved: (v.cpuReservationMhz ?? 0) > 0, share: short.get(v.id)?.cpuServedShare ?? 1 }));
          const worstReserved = Math.min(...shares.filter((s) => s.reserved).map((s) => s.share));
          const bestUnreserved = Math.max(...shares.filter((s) => !s.reserved).map((s) => s.share));
          if (shares.some((s) => s.reserved) && shares.some((s) => !s.reserved))
            expect(worstReserved).toBeGreaterThanOrEqual(bestUnreserved - 1e-12);
        }
        for (const v of report.mostContendedVms) {
          expect(v.cpuServedShare).toBeGreaterThanOrEqual(0);
          expect(v.cpuServedShare).toBeLessThanOrEqual(1);
          expect(v.contention).toBeCloseTo(1 - Math.min(v.cpuServedShare, v.memoryServedShare), 12);
        }
        expect(report.mostContendedVms).toHaveLength(report.contendedVms);
        expect(report.score).toBeGreaterThanOrEqual(0);
        expect(report.score).toBeLessThanOrEqual(100);
        expect(report.score === 100).toBe(report.contendedVms === 0);
      }),
      { seed: 16, numRuns: 300 },
    );
  });
});
