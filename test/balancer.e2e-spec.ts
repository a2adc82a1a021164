import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, TestApp } from './helpers/test-app';

/**
 * Hosts: 10 cores × 2000 MHz = 20,000 MHz, 40,960 MiB. VMs without samples count at their configured
 * size: 2 vCPU → 4,000 MHz (2000 MHz per core of their host), 4,096 MiB.
 */
describe('balancer API', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  async function lopsided(vmsOnA = 4) {
    const cluster = await createCluster(t.http);
    const spec = { cpuCores: 10, cpuMhz: 20_000, memoryMib: 40_960 };
    const a = await createHost(t.http, cluster.id, { ...spec, name: 'a' });
    const b = await createHost(t.http, cluster.id, { ...spec, name: 'b' });
    const vms = [];
    for (let i = 0; i < vmsOnA; i++) vms.push(await createVm(t.http, cluster.id, a.id, { name: `vm-${i}`, vcpus: 2, memoryMib: 4096 }));
    return { cluster, a, b, vms };
  }

  it('reports per-host utilization, σ, I and its target', async () => {
    const { cluster, a, b } = await lopsided(4);
    const res = await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200);
    // a: cpu 16,000 / 20,000 = 0.8, memory 16,384 / 40,960 = 0.4; b: 0 and 0
    // σ_cpu = 0.4, σ_mem = 0.2, I = sqrt(0.5 × 0.16 + 0.5 × 0.04) = sqrt(0.1) ≈ 0.3162; target (5 − 3) / (10 √2) ≈ 0.1414
    expect(res.body.hosts).toHaveLength(2);
    expect(res.body.hosts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostId: a.id, cpu: 0.8, memory: 0.4 }),
        expect.objectContaining({ hostId: b.id, cpu: 0, memory: 0 }),
      ]),
    );
    expect(res.body.sigmaCpu).toBeCloseTo(0.4, 10);
    expect(res.body.sigmaMemory).toBeCloseTo(0.2, 10);
    expect(res.body.imbalance).toBeCloseTo(Math.sqrt(0.1), 10);
    expect(res.body.target).toBeCloseTo(0.2 / Math.sqrt(2), 10);
    // No samples, so no spread: nothing of I is sampling noise.
    expect(res.body.samplingNoise).toBe(0);
    expect(res.body.balanced).toBe(false);
    expect(res.body.balancedWithinNoise).toBe(false);
    expect(res.body.maxMinGap).toBeCloseTo(0.8, 10);
    expect(res.body.inputs).toMatchObject({ demandStatistic: 'mean', demandWindowSeconds: 300 });
  });

  it('plans moves that even out the hosts, explains them, and changes nothing', async () => {
    const { cluster, a, b, vms } = await lopsided(4);
    const res = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({}).expect(200);
    expect(res.body.moves).toHaveLength(2);
    for (const move of res.body.moves) {
      expect(move).toMatchObject({ fromHostId: a.id, toHostId: b.id, reason: expect.stringMatching(/^balance-/) });
      expect(move.priority).toBeGreaterThanOrEqual(2);
      expect(move.explanation).toEqual(expect.stringContaining('a'));
      expect(move.gain).toBeGreaterThan(0);
      expect(move.cost).toBeCloseTo(4, 10); // GiB copied
    }
    expect(res.body.after.imbalance).toBeCloseTo(0, 10);
    expect(res.body.after.balanced).toBe(true);

    const stillThere = await t.http.get(`/api/v1/vms/${vms[0].id}`).expect(200);
    expect(stillThere.body.hostId).toBe(a.id);
  });

  it('accepts what-if overrides: threshold 1 makes only mandatory moves', async () => {
    const { cluster } = await lopsided(4);
    const res = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({ migrationThreshold: 1 }).expect(200);
    expect(res.body.moves).toEqual([]);
    expect(res.body.inputs.policy.migrationThreshold).toBe(1);
  });

  it('evacuates a host entering maintenance first, with priority 1', async () => {
    const { cluster, a } = await lopsided(2);
    await t.http.patch(`/api/v1/hosts/${a.id}`).send({ state: 'entering-maintenance' }).expect(200);
    const res = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({}).expect(200);
    expect(res.body.moves).toHaveLength(2);
    expect(res.body.moves.every((m: { priority: number; reason: string }) => m.priority === 1 && m.reason === 'maintenance')).toBe(true);
  });

  it('fixes a hard anti-affinity violation', async () => {
    const { cluster, b, vms } = await lopsided(2);
    const group = await t.http
      .post('/api/v1/groups')
      .send({ clusterId: cluster.id, name: 'pair', kind: 'vm', memberIds: [vms[0].id, vms[1].id] })
      .expect(201);
    await t.http
      .post('/api/v1/rules')
      .send({ clusterId: cluster.id, name: 'apart', kind: 'anti-affinity', vmGroupId: group.body.id, enforcement: 'hard' })
      .expect(201);
    const res = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({ migrationThreshold: 1 }).expect(200);
    expect(res.body.moves).toEqual([expect.objectContaining({ priority: 1, reason: 'rule-violation', toHostId: b.id })]);
  });

  it('ranks hosts for a new VM and says why the others are ruled out', async () => {
    const { cluster, a, b, vms } = await lopsided(2);
    const res = await t.http.post(`/api/v1/clusters/${cluster.id}/placement`).send({ vcpus: 2, memoryMib: 4096 }).expect(200);
    expect(res.body.ranked.map((r: { hostId: string }) => r.hostId)).toEqual([b.id, a.id]);

    const group = await t.http
      .post('/api/v1/groups')
      .send({ clusterId: cluster.id, name: 'g', kind: 'vm', memberIds: [vms[0].id] })
      .expect(201);
    await t.http
      .post('/api/v1/rules')
      .send({ clusterId: cluster.id, name: 'r', kind: 'anti-affinity', vmGroupId: group.body.id, enforcement: 'hard' })
      .expect(201);
    await t.http.patch(`/api/v1/hosts/${b.id}`).send({ state: 'maintenance' }).expect(200);
    const ruled = await t.http
      .post(`/api/v1/clusters/${cluster.id}/placement`)
      .send({ vcpus: 2, memoryMib: 4096, vmGroupIds: [group.body.id] })
      .expect(200);
    expect(ruled.body.ranked).toEqual([]);
    expect(ruled.body.excluded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostId: a.id, reason: 'rule-forbids' }),
        expect.objectContaining({ hostId: b.id, reason: 'not-connected' }),
      ]),
    );
  });

  it('answers 404 for an unknown cluster and 400 naming a bad override', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    await t.http.get(`/api/v1/clusters/${unknown}/balance`).expect(404);
    await t.http.post(`/api/v1/clusters/${unknown}/plan`).send({}).expect(404);
    await t.http.post(`/api/v1/clusters/${unknown}/placement`).send({ vcpus: 1, memoryMib: 1 }).expect(404);
    const { cluster } = await lopsided(1);
    const bad = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({ migrationThreshold: 9 }).expect(400);
    expect(bad.body.errors[0].field).toBe('migrationThreshold');
    const weights = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({ cpuWeight: 0.7, memoryWeight: 0.7 }).expect(400);
    expect(weights.body.errors[0].field).toBe('memoryWeight');
    const unknownField = await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({ aggressive: true }).expect(400);
    expect(unknownField.body.errors[0].field).toBe('aggressive');
    const placement = await t.http.post(`/api/v1/clusters/${cluster.id}/placement`).send({ vcpus: 0, memoryMib: 1 }).expect(400);
    expect(placement.body.errors[0].field).toBe('vcpus');
    await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).query({ demandStatistic: 'median' }).expect(400);
    const query = await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).query({ migrationThreshold: 9 }).expect(400);
    expect(query.body.errors[0].field).toBe('migrationThreshold');
    await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).query({ cpuWeight: 'half' }).expect(400);
  });

  it('takes what-if policy fields in the balance query', async () => {
    const { cluster } = await lopsided(4);
    const strict = await t.http
      .get(`/api/v1/clusters/${cluster.id}/balance`)
      .query({ migrationThreshold: 5, cpuWeight: 1, memoryWeight: 0 })
      .expect(200);
    // threshold 5 on 2 hosts: target 0; only CPU counts: I = σ_cpu = 0.4
    expect(strict.body.target).toBe(0);
    expect(strict.body.imbalance).toBeCloseTo(0.4, 10);
    expect(strict.body.inputs.policy).toMatchObject({ migrationThreshold: 5, cpuWeight: 1, memoryWeight: 0 });
    const plain = await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200);
    expect(plain.body.imbalance).toBeCloseTo(Math.sqrt(0.1), 10);
    // a JSON body still has to send numbers as numbers
    await t.http.post(`/api/v1/clusters/${cluster.id}/plan`).send({ migrationThreshold: '5' }).expect(400);
  });
});
