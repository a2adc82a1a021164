import TestAgent from 'supertest/lib/agent';

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

export async function createCluster(http: TestAgent, name = unique('cluster')) {
  const res = await http.post('/api/v1/clusters').send({ name }).expect(201);
  return res.body as { id: string; name: string; version: number };
}

export async function createHost(http: TestAgent, clusterId: string, overrides: Record<string, unknown> = {}) {
  const res = await http
    .post('/api/v1/hosts')
    .send({ clusterId, name: unique('host'), cpuCores: 32, cpuMhz: 76800, memoryMib: 262144, ...overrides })
    .expect(201);
  return res.body as { id: string; name: string; clusterId: string; version: number };
}

export async function createVm(http: TestAgent, clusterId: string, hostId: string, overrides: Record<string, unknown> = {}) {
  const res = await http
    .post('/api/v1/vms')
    .send({ clusterId, hostId, name: unique('vm'), vcpus: 2, memoryMib: 4096, ...overrides })
    .expect(201);
  return res.body as { id: string; name: string; hostId: string; version: number };
}
