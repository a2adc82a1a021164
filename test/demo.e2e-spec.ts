import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, makeTempDir, removeTempDir } from './helpers/test-app';
import { waitFor } from './helpers/wait';

describe('demo cluster', () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));
  const env = { DEMO_ENABLED: true, DEMO_HOSTS: 4, DEMO_VMS: 12, DEMO_SAMPLE_INTERVAL_MS: 100, SCHEDULER_ENABLED: false };

  it('is seeded on an empty database, posts trace samples, and is not seeded twice', async () => {
    const databasePath = join(dir, 'demo.sqlite');
    const first = await createTestApp({ databasePath, env });
    try {
      const clusters = await first.http.get('/api/v1/clusters').expect(200);
      expect(clusters.body.items.map((c: { name: string }) => c.name)).toEqual(['demo']);
      const id = clusters.body.items[0].id;
      const hosts = await first.http.get('/api/v1/hosts').query({ clusterId: id }).expect(200);
      expect(hosts.body.total).toBe(4);
      const vms = await first.http.get('/api/v1/vms').query({ clusterId: id, limit: 100 }).expect(200);
      expect(vms.body.total).toBe(12);
      // piled on the first half of the hosts
      const used = new Set(vms.body.items.map((v: { hostId: string }) => v.hostId));
      expect(used.size).toBe(2);
      const policy = await first.http.get(`/api/v1/clusters/${id}/policy`).expect(200);
      expect(policy.body.policy.automationLevel).toBe('fully-automated');

      const vmId = vms.body.items[0].id;
      const demand = await waitFor(async () => {
        const res = await first.http.get(`/api/v1/vms/${vmId}/demand`);
        return res.body.source === 'samples' ? res.body : undefined;
      });
      expect(demand.sampleCount).toBeGreaterThan(0);
      const balance = await first.http.get(`/api/v1/clusters/${id}/balance`).expect(200);
      const empty = balance.body.hosts.filter((h: { cpu: number; memory: number }) => h.cpu === 0 && h.memory === 0);
      expect(empty).toHaveLength(2);
      expect(balance.body.imbalance).toBeGreaterThan(0);
    } finally {
      await first.close();
    }

    const second = await createTestApp({ databasePath, env });
    try {
      const clusters = await second.http.get('/api/v1/clusters').expect(200);
      expect(clusters.body.total).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('stays out of a database that has clusters of its own', async () => {
    const databasePath = join(dir, 'own.sqlite');
    const plain = await createTestApp({ databasePath });
    await plain.http.post('/api/v1/clusters').send({ name: 'prod' }).expect(201);
    await plain.close();
    const withDemo = await createTestApp({ databasePath, env });
    try {
      const clusters = await withDemo.http.get('/api/v1/clusters').expect(200);
      expect(clusters.body.items.map((c: { name: string }) => c.name)).toEqual(['prod']);
    } finally {
      await withDemo.close();
    }
  });

  it('never starts with a migration driver that moves real VMs: the service refuses to start and says why', async () => {
    const ran = join(dir, 'command-ran');
    const databasePath = join(dir, 'real-driver.sqlite');
    await expect(
      createTestApp({
        databasePath,
        env: { ...env, MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: JSON.stringify(['touch', ran]) },
      }),
    ).rejects.toThrow(/DEMO_ENABLED=true: the demo seeds made-up hosts and VMs .*set DEMO_ENABLED=false/);
    expect(existsSync(ran)).toBe(false);
  });
});
