import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, FakeClock, TestApp } from './helpers/test-app';

/**
 * Hosts: 10 cores × 2,000 MHz = 20,000 MHz, 40,960 MiB. Each VM posts one sample: its CPU demand, and
 * 4,096 MiB active = consumed (so its memory demand is 4,096 MiB, whatever the idle tax).
 */
describe('contention in the balance report', () => {
  const clock = new FakeClock();
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ clock })));
  afterAll(() => t.close());

  /** VMs on host a with the given CPU demands, one 2,000 MHz VM on host b. */
  async function cluster(demandsOnA: number[]) {
    const c = await createCluster(t.http);
    const spec = { cpuCores: 10, cpuMhz: 20_000, memoryMib: 40_960 };
    const a = await createHost(t.http, c.id, { ...spec, name: 'a' });
    const b = await createHost(t.http, c.id, { ...spec, name: 'b' });
    const demands: [string, number][] = [];
    for (const [i, mhz] of demandsOnA.entries()) {
      demands.push([(await createVm(t.http, c.id, a.id, { name: `busy-${i}`, vcpus: 10, memoryMib: 8192 })).id, mhz]);
    }
    const calm = await createVm(t.http, c.id, b.id, { name: 'calm', vcpus: 2, memoryMib: 8192 });
    demands.push([calm.id, 2000]);
    const samples = demands.map(([vmId, cpuMhz]) => ({
      vmId,
      timestamp: clock.now() - 60_000,
      cpuMhz,
      memoryActiveMib: 4096,
      memoryConsumedMib: 4096,
    }));
    await t.http.post('/api/v1/samples').send({ samples }).expect(201);
    return { cluster: c, a, b, vmIds: demands.map(([id]) => id) };
  }

  it('shows the VMs of a host overcommitted by their samples as contended, and a score below 100', async () => {
    const { cluster: c, a, vmIds } = await cluster([18_000, 6_000]);
    const res = await t.http.get(`/api/v1/clusters/${c.id}/balance`).expect(200);
    const contention = res.body.contention;
    // a: 24,000 MHz demanded of 20,000: each VM gets 20/24 of its demand, 4,000 MHz unmet. Memory fits.
    expect(contention.contendedVms).toBe(2);
    expect(contention.cpuDemandUnmetMhz).toBeCloseTo(4000, 6);
    expect(contention.memoryDemandUnmetMib).toBe(0);
    expect(contention.hosts).toEqual(
      expect.arrayContaining([expect.objectContaining({ hostId: a.id, cpuDemandMhz: 24_000, cpuDemandUnmetMhz: 4000, contendedVms: 2 })]),
    );
    expect(contention.mostContendedVms.map((v: { vmId: string }) => v.vmId).sort()).toEqual(vmIds.slice(0, 2).sort());
    for (const v of contention.mostContendedVms) {
      expect(v.cpuServedShare).toBeCloseTo(20 / 24, 10);
      expect(v.contention).toBeCloseTo(4 / 24, 10);
    }
    // Weights: half the VM's share of the 26,000 MHz, half its share of the memory (a third each).
    // The busy VMs hold 24/26 of the CPU and 2/3 of the memory, served at 20/24; calm the rest, fully served.
    const busyWeight = (24 / 26 + 2 / 3) / 2;
    expect(contention.score).toBeCloseTo(100 * (busyWeight * (20 / 24) + (1 - busyWeight)), 6);
    expect(contention.score).toBeLessThan(100);
  });

  it('scores a relaxed cluster 100 with no VM contended', async () => {
    const { cluster: c } = await cluster([9_000, 6_000]);
    const res = await t.http.get(`/api/v1/clusters/${c.id}/balance`).expect(200);
    expect(res.body.contention).toMatchObject({
      score: 100,
      contendedVms: 0,
      poweredOnVms: 3,
      cpuDemandMhz: 17_000,
      cpuDemandUnmetMhz: 0,
      mostContendedVms: [],
    });
  });

  it('serves only up to the policy ceiling: a what-if CPU ceiling of 0.7 makes 15,000 MHz on 20,000 short', async () => {
    const { cluster: c } = await cluster([9_000, 6_000]);
    const res = await t.http.get(`/api/v1/clusters/${c.id}/balance`).query({ cpuCeiling: 0.7 }).expect(200);
    expect(res.body.contention.contendedVms).toBe(2);
    expect(res.body.contention.cpuDemandUnmetMhz).toBeCloseTo(1000, 6);
  });

  it('documents the contention object in the OpenAPI document', async () => {
    const res = await t.http.get('/docs-json').expect(200);
    const ok = res.body.paths['/api/v1/clusters/{id}/balance'].get.responses['200'];
    expect(ok.content['application/json'].schema.$ref).toBe('#/components/schemas/BalanceView');
    const schemas = res.body.components.schemas;
    expect(schemas.BalanceView.properties.contention.$ref).toBe('#/components/schemas/ContentionView');
    expect(Object.keys(schemas.ContentionView.properties)).toEqual(
      expect.arrayContaining(['score', 'cpuDemandUnmetMhz', 'memoryDemandUnmetMib', 'contendedVms', 'hosts', 'mostContendedVms']),
    );
  });
});
