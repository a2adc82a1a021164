import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, makeTempDir, removeTempDir } from './helpers/test-app';
import { join } from 'node:path';

describe('data on disk', () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  it('survives closing and reopening the app on the same file', async () => {
    const databasePath = join(dir, 'drs.sqlite');
    const first = await createTestApp({ databasePath });
    const cluster = await createCluster(first.http, 'kept');
    const host = await createHost(first.http, cluster.id, { name: 'esx-kept' });
    const vm = await createVm(first.http, cluster.id, host.id, { name: 'vm-kept', memoryMib: 3072 });
    await first.close();

    const second = await createTestApp({ databasePath });
    try {
      const vms = await second.http.get('/api/v1/vms').query({ clusterId: cluster.id }).expect(200);
      expect(vms.body.total).toBe(1);
      expect(vms.body.items[0]).toMatchObject({ id: vm.id, name: 'vm-kept', hostId: host.id, memoryMib: 3072 });
      const hosts = await second.http.get(`/api/v1/hosts/${host.id}`).expect(200);
      expect(hosts.body.name).toBe('esx-kept');
    } finally {
      await second.close();
    }
  });
});
