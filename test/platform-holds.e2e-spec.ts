// A VM its platform holds where it is (a Proxmox guest that is locked, a template, with local disks, a
// container; set by the cluster's connector through the inventory sync's `heldBy`): it counts for the
// host's load, the planner never moves it and says why, and a move asked by hand is refused naming the hold.
import { createTestApp, type TestApp } from './helpers/test-app';
import { createCluster } from './helpers/fixtures';

describe('VMs held where they are by their platform', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { SCHEDULER_ENABLED: false } })));
  afterAll(() => t.close());

  const HOLD = 'locked by Proxmox VE (backup)';

  async function lopsided() {
    const cluster = await createCluster(t.http);
    const hosts = ['a', 'b'].map((name) => ({ name, cpuCores: 10, cpuMhz: 10_000, memoryMib: 40_960 }));
    // Everything on a: a big held VM and a small free one; moving the held one would even the hosts out best.
    const vms = [
      { name: 'held', hostName: 'a', vcpus: 8, memoryMib: 16384, heldBy: HOLD },
      { name: 'free', hostName: 'a', vcpus: 2, memoryMib: 4096 },
    ];
    await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send({ hosts, vms }).expect(200);
    const list = (await t.http.get('/api/v1/vms').query({ clusterId: cluster.id }).expect(200)).body.items;
    const hostList = (await t.http.get('/api/v1/hosts').query({ clusterId: cluster.id }).expect(200)).body.items;
    type Row = { id: string; name: string; heldBy: string | null };
    const byName = (items: Row[], name: string) => items.find((x) => x.name === name)!;
    return { cluster, held: byName(list, 'held'), free: byName(list, 'free'), b: byName(hostList, 'b') };
  }

  it('shows the hold, plans around it (the free VM moves, the held one stays and the plan says why)', async () => {
    const { cluster, held, free, b } = await lopsided();
    expect(held.heldBy).toBe(HOLD);
    expect(free.heldBy).toBeNull();
    const balance = (await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200)).body;
    expect(balance.heldVms).toEqual([{ vmId: held.id, vmName: 'held', hostId: expect.any(String), heldBy: HOLD }]);
    const plan = (await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({}).expect(200)).body;
    expect(plan.moves.map((m: { vmId: string; toHostId: string }) => [m.vmId, m.toHostId])).toEqual([[free.id, b.id]]);
    expect(plan.notMoved).toContainEqual(
      expect.objectContaining({
        vmId: held.id,
        reason: 'pinned',
        explanation: expect.stringContaining(`held is held where it is by its platform: ${HOLD}`),
      }),
    );
  });

  it('refuses a move asked by hand, naming the hold; once the platform lets go, the VM may move', async () => {
    const { cluster, held, b } = await lopsided();
    const refused = await t.http.post('/api/v1/migrations').send({ vmId: held.id, targetHostId: b.id });
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(refused.body)).toContain(HOLD);

    // The next sync says the hold is gone (null); leaving heldBy out would keep it.
    const hosts = ['a', 'b'].map((name) => ({ name, cpuCores: 10, cpuMhz: 10_000, memoryMib: 40_960 }));
    await t.http
      .put(`/api/v1/clusters/${cluster.id}/inventory`)
      .send({ hosts, vms: [{ name: 'held', hostName: 'a', vcpus: 4, memoryMib: 8192 }] })
      .expect(200);
    expect((await t.http.get(`/api/v1/vms/${held.id}`).expect(200)).body.heldBy).toBe(HOLD);
    await t.http
      .put(`/api/v1/clusters/${cluster.id}/inventory`)
      .send({ hosts, vms: [{ name: 'held', hostName: 'a', vcpus: 4, memoryMib: 8192, heldBy: null }] })
      .expect(200);
    expect((await t.http.get(`/api/v1/vms/${held.id}`).expect(200)).body.heldBy).toBeNull();
    await t.http.post('/api/v1/migrations').send({ vmId: held.id, targetHostId: b.id }).expect(201);
  });

  it('refuses a hold that is not a string, or too long, naming the field', async () => {
    const cluster = await createCluster(t.http);
    const hosts = [{ name: 'a', cpuCores: 10, cpuMhz: 10_000, memoryMib: 40_960 }];
    const bad = await t.http
      .put(`/api/v1/clusters/${cluster.id}/inventory`)
      .send({ hosts, vms: [{ name: 'v', hostName: 'a', vcpus: 1, memoryMib: 1024, heldBy: 'x'.repeat(501) }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('vms.0.heldBy');
  });
});
