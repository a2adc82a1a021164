import { createCluster } from './helpers/fixtures';
import { generateInventory } from './helpers/inventory-generator';
import { createTestApp, TestApp } from './helpers/test-app';

describe('PUT /api/v1/clusters/{id}/inventory', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('creates 100 hosts and 10,000 VMs in one request, then finds nothing to change on a repeat', async () => {
    const cluster = await createCluster(t.http);
    const inventory = generateInventory(100, 10_000);
    const first = await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(inventory).expect(200);
    expect(first.body.hosts).toEqual({ created: 100, updated: 0, unchanged: 0, deleted: 0 });
    expect(first.body.vms).toEqual({ created: 10_000, updated: 0, unchanged: 0, deleted: 0 });

    const vms = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id, limit: 1 }).expect(200);
    expect(vms.body.total).toBe(10_000);
    const onFirstHost = await t.http.get('/api/v1/hosts').query({ clusterId: cluster.id, name: 'esx-0000' }).expect(200);
    const vmsOnFirstHost = await t.http.get('/api/v1/vms').query({ hostId: onFirstHost.body.items[0].id, limit: 1 }).expect(200);
    expect(vmsOnFirstHost.body.total).toBe(100);

    const again = await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(inventory).expect(200);
    expect(again.body.vms).toEqual({ created: 0, updated: 0, unchanged: 10_000, deleted: 0 });
    expect(again.body.hosts).toEqual({ created: 0, updated: 0, unchanged: 100, deleted: 0 });
  }, 60_000);

  it('updates what changed, moves VMs that changed host, and prunes what is no longer reported', async () => {
    const cluster = await createCluster(t.http);
    const inventory = generateInventory(3, 6);
    await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(inventory).expect(200);
    const before = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id, name: 'vm-000000' }).expect(200);

    const next = {
      hosts: inventory.hosts.slice(0, 2).map((h, i) => (i === 0 ? { ...h, memoryMib: 2 * 1024 * 1024 } : h)),
      vms: inventory.vms
        .filter((v) => v.hostName !== 'esx-0002')
        .map((v) => (v.name === 'vm-000000' ? { ...v, hostName: 'esx-0001', memoryMib: 512 } : v)),
      prune: true,
    };
    const res = await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(next).expect(200);
    expect(res.body.hosts).toEqual({ created: 0, updated: 1, unchanged: 1, deleted: 1 });
    expect(res.body.vms).toEqual({ created: 0, updated: 1, unchanged: 3, deleted: 2 });

    const hosts = await t.http.get('/api/v1/hosts').query({ clusterId: cluster.id }).expect(200);
    expect(hosts.body.items.map((h: { name: string }) => h.name)).toEqual(['esx-0000', 'esx-0001']);
    const moved = await t.http.get(`/api/v1/vms/${before.body.items[0].id}`).expect(200);
    expect(moved.body).toMatchObject({ memoryMib: 512, hostId: hosts.body.items[1].id, version: 2 });
  });

  it('keeps hosts the request does not list unless asked to prune', async () => {
    const cluster = await createCluster(t.http);
    await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(generateInventory(2, 4)).expect(200);
    const partial = generateInventory(1, 0);
    const res = await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(partial).expect(200);
    expect(res.body.hosts.deleted).toBe(0);
    const hosts = await t.http.get('/api/v1/hosts').query({ clusterId: cluster.id }).expect(200);
    expect(hosts.body.total).toBe(2);
  });

  it('writes nothing when one VM names a host the cluster does not have', async () => {
    const cluster = await createCluster(t.http);
    const inventory = generateInventory(2, 10);
    inventory.vms[7].hostName = 'nowhere';
    const res = await t.http.put(`/api/v1/clusters/${cluster.id}/inventory`).send(inventory).expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'vms.7.hostName' })]);
    const hosts = await t.http.get('/api/v1/hosts').query({ clusterId: cluster.id }).expect(200);
    expect(hosts.body.total).toBe(0);
  });

  it('answers 404 for an unknown cluster', async () => {
    await t.http.put('/api/v1/clusters/00000000-0000-4000-8000-000000000000/inventory').send(generateInventory(1, 1)).expect(404);
  });
});
