import { createCluster, createHost } from './helpers/fixtures';
import { createTestApp, TestApp } from './helpers/test-app';

describe('concurrent writes on one SQLite file', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('accepts 50 creates sent at once, every one of them', async () => {
    const cluster = await createCluster(t.http);
    const host = await createHost(t.http, cluster.id);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.http.post('/api/v1/vms').send({ clusterId: cluster.id, hostId: host.id, name: `burst-${i}`, vcpus: 1, memoryMib: 1024 }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    const list = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id, limit: 100 }).expect(200);
    expect(list.body.total).toBe(50);
  });

  it('lets exactly one of two racing updates with the same version win', async () => {
    const cluster = await createCluster(t.http);
    const [a, b] = await Promise.all([
      t.http.patch(`/api/v1/clusters/${cluster.id}`).send({ description: 'a', version: cluster.version }),
      t.http.patch(`/api/v1/clusters/${cluster.id}`).send({ description: 'b', version: cluster.version }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });

  it('mixes writes to different resources without failures', async () => {
    const cluster = await createCluster(t.http);
    const responses = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        t.http.post('/api/v1/hosts').send({ clusterId: cluster.id, name: `h-${i}`, cpuCores: 8, cpuMhz: 16000, memoryMib: 65536 }),
      ),
      ...Array.from({ length: 20 }, (_, i) => t.http.post('/api/v1/clusters').send({ name: `parallel-${process.pid}-${i}` })),
      ...Array.from({ length: 10 }, () => t.http.get('/api/v1/clusters')),
    ]);
    expect(responses.filter((r) => r.status >= 300).map((r) => r.body)).toEqual([]);
  });
});
