import TestAgent from 'supertest/lib/agent';
import { EventsService } from '../src/events/events.service';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, FakeClock, TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

const FAST = { MIGRATION_TIME_SCALE: 10_000, SCHEDULER_TICK_MS: 50, LOG_LEVEL: 'silent' };
const HOST = { cpuCores: 16, cpuMhz: 32_000, memoryMib: 65_536 };

async function drained(http: TestAgent, clusterId: string): Promise<boolean> {
  const queued = await http.get('/api/v1/migrations').query({ clusterId, state: 'queued', limit: 1 });
  const running = await http.get('/api/v1/migrations').query({ clusterId, state: 'running', limit: 1 });
  return queued.body.total === 0 && running.body.total === 0;
}

async function setPolicy(http: TestAgent, clusterId: string, policy: Record<string, unknown>) {
  return http.put(`/api/v1/clusters/${clusterId}/policy`).send(policy).expect(200);
}

/** One host carrying every VM, the others empty. */
async function lopsided(http: TestAgent, hosts: number, vms: number) {
  const cluster = await createCluster(http);
  const hostList = [];
  for (let i = 0; i < hosts; i++) hostList.push(await createHost(http, cluster.id, { ...HOST, name: `h${i}` }));
  const vmList = [];
  for (let i = 0; i < vms; i++)
    vmList.push(await createVm(http, cluster.id, hostList[0].id, { name: `vm${i}`, vcpus: 1, memoryMib: 2048 }));
  return { cluster, hosts: hostList, vms: vmList };
}

describe('scheduler, recommendations and maintenance', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: FAST })));
  afterAll(() => t.close());

  it('brings a fully automated cluster within target in a few passes, moving no VM twice within the cooldown', async () => {
    const { cluster } = await lopsided(t.http, 4, 24);
    await setPolicy(t.http, cluster.id, { automationLevel: 'fully-automated' });
    let passes = 0;
    for (; passes < 5; passes++) {
      const balance = await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200);
      if (balance.body.balanced) break;
      const pass = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
      expect(pass.body.movesApplied).toBeGreaterThan(0);
      await waitFor(() => drained(t.http, cluster.id));
    }
    const balance = await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200);
    expect(balance.body.balanced).toBe(true);
    expect(balance.body.imbalance).toBeLessThanOrEqual(balance.body.target);
    expect(passes).toBeLessThanOrEqual(3);

    const migrations = await t.http.get('/api/v1/migrations').query({ clusterId: cluster.id, limit: 1000 }).expect(200);
    const perVm = new Map<string, number>();
    for (const m of migrations.body.items) perVm.set(m.vmId, (perVm.get(m.vmId) ?? 0) + 1);
    expect(Math.max(...perVm.values())).toBe(1);
    expect(migrations.body.items.every((m: { state: string }) => m.state === 'succeeded')).toBe(true);

    // the next pass finds nothing to undo
    const after = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(after.body.movesRecommended).toBe(0);
    const list = await t.http.get(`/api/v1/clusters/${cluster.id}/passes`).expect(200);
    expect(list.body.total).toBe(passes + 1);
    expect(list.body.items[0]).toMatchObject({ trigger: 'manual', status: 'completed' });
  });

  it('collects recommendations in a manual cluster; applying one moves the VM, and the reason is on record', async () => {
    const { cluster, hosts } = await lopsided(t.http, 2, 12);
    await setPolicy(t.http, cluster.id, { automationLevel: 'manual' });
    const pass = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(pass.body).toMatchObject({ movesApplied: 0 });
    expect(pass.body.movesRecommended).toBeGreaterThan(0);
    expect(await drained(t.http, cluster.id)).toBe(true);

    const pending = await t.http.get('/api/v1/recommendations').query({ clusterId: cluster.id, status: 'pending' }).expect(200);
    expect(pending.body.total).toBe(pass.body.movesRecommended);
    expect(pending.body.total).toBeGreaterThanOrEqual(3);
    const rec = pending.body.items[0];
    expect(rec).toMatchObject({ fromHostId: hosts[0].id, toHostId: hosts[1].id, explanation: expect.any(String) });

    const applied = await t.http.post(`/api/v1/recommendations/${rec.id}/apply`).expect(200);
    expect(applied.body).toMatchObject({ status: 'applied', migrationId: expect.any(String) });
    await waitFor(async () => (await t.http.get(`/api/v1/vms/${rec.vmId}`)).body.hostId === hosts[1].id);
    await t.http.post(`/api/v1/recommendations/${rec.id}/apply`).expect(409);

    const other = pending.body.items[1];
    await t.http.post(`/api/v1/recommendations/${other.id}/dismiss`).expect(200);
    const events = await t.http.get('/api/v1/events').query({ clusterId: cluster.id, type: 'recommendation' }).expect(200);
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['recommendation.created', 'recommendation.applied', 'recommendation.dismissed']),
    );
    const migrationEvents = await t.http
      .get('/api/v1/events')
      .query({ clusterId: cluster.id, subjectId: applied.body.migrationId })
      .expect(200);
    expect(migrationEvents.body.items.map((e: { type: string }) => e.type).reverse()).toEqual([
      'migration.queued',
      'migration.started',
      'migration.succeeded',
    ]);
    const policyEvents = await t.http.get('/api/v1/events').query({ clusterId: cluster.id, type: 'policy' }).expect(200);
    expect(policyEvents.body.items[0].message).toContain('automationLevel="manual"');
    // a new pass supersedes what is still pending
    await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    const third = await t.http.get(`/api/v1/recommendations/${pending.body.items[2].id}`).expect(200);
    expect(third.body.status).toBe('superseded');
  });

  it('evacuates a host entering maintenance, then marks it in maintenance', async () => {
    const { cluster, hosts, vms } = await lopsided(t.http, 3, 5);
    const res = await t.http.post(`/api/v1/hosts/${hosts[0].id}/maintenance`).expect(202);
    expect(res.body.state).toBe('entering-maintenance');
    await waitFor(async () => (await t.http.get(`/api/v1/hosts/${hosts[0].id}`)).body.state === 'maintenance');
    for (const vm of vms) expect((await t.http.get(`/api/v1/vms/${vm.id}`)).body.hostId).not.toBe(hosts[0].id);
    const migrations = await t.http.get('/api/v1/migrations').query({ clusterId: cluster.id }).expect(200);
    expect(migrations.body.items.every((m: { trigger: string; priority: number }) => m.trigger === 'evacuation' && m.priority === 1)).toBe(
      true,
    );

    await t.http.delete(`/api/v1/hosts/${hosts[0].id}/maintenance`).expect(200);
    expect((await t.http.get(`/api/v1/hosts/${hosts[0].id}`)).body.state).toBe('connected');
  });

  it('evacuates without balancing the rest of the cluster: the next pass balances', async () => {
    // All VMs on h0, far from balanced; h2, empty, enters maintenance.
    const { cluster, hosts } = await lopsided(t.http, 3, 12);
    await setPolicy(t.http, cluster.id, { automationLevel: 'fully-automated' });
    await t.http.post(`/api/v1/hosts/${hosts[2].id}/maintenance`).expect(202);
    const passes = await t.http.get(`/api/v1/clusters/${cluster.id}/passes`).expect(200);
    // Recorded against the cluster's own threshold (3), not as balanced: the pass says what it left to the next one.
    const balance = await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200);
    expect(balance.body.balanced).toBe(false);
    expect(passes.body.items).toEqual([
      expect.objectContaining({
        trigger: 'maintenance',
        movesRecommended: 0,
        target: expect.closeTo(balance.body.target, 12),
        notes: 'evacuation: mandatory moves only, the next pass balances',
      }),
    ]);
    const none = await t.http.get('/api/v1/migrations').query({ clusterId: cluster.id }).expect(200);
    expect(none.body.total).toBe(0);
    const next = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(next.body.movesApplied).toBeGreaterThan(0);
    await waitFor(() => drained(t.http, cluster.id));
    await t.http.delete(`/api/v1/hosts/${hosts[2].id}/maintenance`).expect(200);
  });

  it('keeps a host entering maintenance when its VMs cannot go anywhere, and names them', async () => {
    const cluster = await createCluster(t.http);
    const a = await createHost(t.http, cluster.id, { ...HOST, name: 'a' });
    await createHost(t.http, cluster.id, { ...HOST, memoryMib: 4096, name: 'tiny' });
    const big = await createVm(t.http, cluster.id, a.id, { name: 'big', vcpus: 2, memoryMib: 16_384 });
    const pinned = await createVm(t.http, cluster.id, a.id, { name: 'pinned', vcpus: 1, memoryMib: 1024 });
    const vmGroup = await t.http
      .post('/api/v1/groups')
      .send({ clusterId: cluster.id, name: 'p', kind: 'vm', memberIds: [pinned.id] })
      .expect(201);
    const hostGroup = await t.http
      .post('/api/v1/groups')
      .send({ clusterId: cluster.id, name: 'only-a', kind: 'host', memberIds: [a.id] })
      .expect(201);
    await t.http
      .post('/api/v1/rules')
      .send({
        clusterId: cluster.id,
        name: 'must-a',
        kind: 'vm-host',
        vmGroupId: vmGroup.body.id,
        hostGroupId: hostGroup.body.id,
        relation: 'run-on',
        enforcement: 'hard',
      })
      .expect(201);

    const res = await t.http.post(`/api/v1/hosts/${a.id}/maintenance`).expect(202);
    expect(res.body.state).toBe('entering-maintenance');
    expect(res.body.blockers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ vmId: big.id, reason: 'no-room' }),
        expect.objectContaining({ vmId: pinned.id, reason: 'rule-forbids' }),
      ]),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await t.http.get(`/api/v1/hosts/${a.id}/maintenance`)).body).toMatchObject({ state: 'entering-maintenance', vmsRemaining: 2 });
  });

  it('holds balancing back in a blackout window, but still evacuates', async () => {
    const { cluster, hosts } = await lopsided(t.http, 3, 6);
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    await setPolicy(t.http, cluster.id, {
      automationLevel: 'fully-automated',
      blackoutWindows: [
        { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: hhmm(Date.now() - 3_600_000), end: hhmm(Date.now() + 3_600_000) },
      ],
    });
    const pass = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(pass.body.movesRecommended).toBeGreaterThan(0);
    expect(pass.body.movesApplied).toBe(0);
    expect(pass.body.notes).toContain('blackout');
    expect(pass.body.skipped[0].reason).toBe('a blackout window is in force');

    await t.http.post(`/api/v1/hosts/${hosts[0].id}/maintenance`).expect(202);
    await waitFor(async () => (await t.http.get(`/api/v1/hosts/${hosts[0].id}`)).body.state === 'maintenance');
  });

  it("keeps to the cluster policy's concurrency caps", async () => {
    const { cluster } = await lopsided(t.http, 4, 16);
    await setPolicy(t.http, cluster.id, { automationLevel: 'fully-automated', maxConcurrentPerHost: 1 });
    const pass = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(pass.body.movesApplied).toBeGreaterThan(2);
    await waitFor(() => drained(t.http, cluster.id));
    const { body } = await t.http.get('/api/v1/migrations').query({ clusterId: cluster.id, limit: 1000 }).expect(200);
    // every migration leaves the one loaded host: with a cap of 1 they never overlap
    const spans = body.items
      .map((m: { startedAt: string; finishedAt: string }) => [Date.parse(m.startedAt), Date.parse(m.finishedAt)])
      .sort((x: number[], y: number[]) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  });

  it('runs overlapping pass requests one at a time', async () => {
    const { cluster } = await lopsided(t.http, 3, 9);
    const results = await Promise.all([0, 1, 2].map(() => t.http.post(`/api/v1/clusters/${cluster.id}/passes`)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    const spans = results.map((r) => [r.body.startedAt, r.body.finishedAt] as [number, number]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  });
});

describe('pass interval', () => {
  const clock = new FakeClock(Date.now());
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: FAST, clock })));
  afterAll(() => t.close());

  it('takes a new interval into account without a restart', async () => {
    const { cluster } = await lopsided(t.http, 2, 2);
    await setPolicy(t.http, cluster.id, { passIntervalSeconds: 3600 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the scheduler sees the cluster
    clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await t.http.get(`/api/v1/clusters/${cluster.id}/passes`)).body.total).toBe(0);

    await setPolicy(t.http, cluster.id, { passIntervalSeconds: 30 });
    const passes = await waitFor(async () => {
      const res = await t.http.get(`/api/v1/clusters/${cluster.id}/passes`);
      return res.body.total > 0 ? res.body : undefined;
      // Patience, not a speed target: the pass is due at once, but its first plan starts a planner thread.
    }, 10_000);
    expect(passes.items[0].trigger).toBe('interval');
  });
});

describe('initial placement of a new VM', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: FAST })));
  afterAll(() => t.close());

  it('places a VM created without a host on the host that leaves the cluster most even', async () => {
    const { cluster, hosts } = await lopsided(t.http, 3, 4);
    const vm = await t.http.post('/api/v1/vms').send({ clusterId: cluster.id, name: 'new', vcpus: 2, memoryMib: 4096 }).expect(201);
    expect([hosts[1].id, hosts[2].id]).toContain(vm.body.hostId);
    const events = await t.http.get('/api/v1/events').query({ clusterId: cluster.id, type: 'vm.placed' }).expect(200);
    expect(events.body.items[0]).toMatchObject({ subjectId: vm.body.id });
  });

  it('keeps a new VM away from the hosts its anti-affinity group uses', async () => {
    const cluster = await createCluster(t.http);
    const a = await createHost(t.http, cluster.id, { ...HOST, name: 'a' });
    const b = await createHost(t.http, cluster.id, { ...HOST, name: 'b' });
    // b is busier, so without the rule the VM would go to a
    for (let i = 0; i < 3; i++) await createVm(t.http, cluster.id, b.id, { name: `filler${i}`, vcpus: 2, memoryMib: 2048 });
    const db = await createVm(t.http, cluster.id, a.id, { name: 'db1', vcpus: 1, memoryMib: 1024 });
    const group = await t.http
      .post('/api/v1/groups')
      .send({ clusterId: cluster.id, name: 'dbs', kind: 'vm', memberIds: [db.id] })
      .expect(201);
    await t.http
      .post('/api/v1/rules')
      .send({ clusterId: cluster.id, name: 'apart', kind: 'anti-affinity', vmGroupId: group.body.id, enforcement: 'hard' })
      .expect(201);
    const vm = await t.http
      .post('/api/v1/vms')
      .send({ clusterId: cluster.id, name: 'db2', vcpus: 1, memoryMib: 1024, vmGroupIds: [group.body.id] })
      .expect(201);
    expect(vm.body.hostId).toBe(b.id);
    const members = await t.http.get(`/api/v1/groups/${group.body.id}`).expect(200);
    expect(members.body.memberIds).toContain(vm.body.id);
  });

  it('answers 409 with the ranked hosts in a manual cluster, and creates nothing', async () => {
    const { cluster, hosts } = await lopsided(t.http, 2, 2);
    await setPolicy(t.http, cluster.id, { automationLevel: 'manual' });
    const res = await t.http.post('/api/v1/vms').send({ clusterId: cluster.id, name: 'waiting', vcpus: 1, memoryMib: 1024 }).expect(409);
    expect(res.body.ranked.map((r: { hostId: string }) => r.hostId)).toEqual([hosts[1].id, hosts[0].id]);
    const list = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id, name: 'waiting' }).expect(200);
    expect(list.body.total).toBe(0);
  });
});

describe('triggers and retention', () => {
  const clock = new FakeClock(Date.now());
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { ...FAST, EVENT_RETENTION_DAYS: 1 }, clock })));
  afterAll(() => t.close());

  it('runs a pass at once when a hard rule is created, without waiting for the interval', async () => {
    const { cluster, vms } = await lopsided(t.http, 2, 2);
    await setPolicy(t.http, cluster.id, { automationLevel: 'fully-automated', passIntervalSeconds: 3600 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the scheduler sees the cluster
    const group = await t.http
      .post('/api/v1/groups')
      .send({ clusterId: cluster.id, name: 'pair', kind: 'vm', memberIds: vms.map((v) => v.id) })
      .expect(201);
    await t.http
      .post('/api/v1/rules')
      .send({ clusterId: cluster.id, name: 'apart', kind: 'anti-affinity', vmGroupId: group.body.id, enforcement: 'hard' })
      .expect(201);
    const passes = await waitFor(async () => {
      const res = await t.http.get(`/api/v1/clusters/${cluster.id}/passes`);
      return res.body.items[0]?.status === 'completed' ? res.body : undefined;
      // Patience, as in 'pass interval': the clock stands still, so no interval pass can come meanwhile (the trigger
      // says which it was), and the first plan starts a planner thread, which takes seconds on a loaded machine.
    }, 10_000);
    expect(passes.total).toBe(1);
    expect(passes.items[0]).toMatchObject({ trigger: 'rule-change', movesApplied: 1 });
  });

  it('prunes events older than the retention', async () => {
    const { cluster } = await lopsided(t.http, 2, 1);
    await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    const before = await t.http.get('/api/v1/events').query({ clusterId: cluster.id }).expect(200);
    expect(before.body.total).toBeGreaterThan(0);
    clock.advance(2 * 86_400_000);
    expect(await t.app.get(EventsService).prune()).toBeGreaterThanOrEqual(before.body.total);
    const after = await t.http.get('/api/v1/events').query({ clusterId: cluster.id }).expect(200);
    expect(after.body.total).toBe(0);
  });
});

describe('edge cases', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: FAST })));
  afterAll(() => t.close());

  it('records a pass of a cluster without a connected host, with no target', async () => {
    const cluster = await createCluster(t.http);
    const empty = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(empty.body).toMatchObject({ status: 'completed', target: null, movesRecommended: 0 });
    const host = await createHost(t.http, cluster.id, { ...HOST, state: 'maintenance' });
    await createVm(t.http, cluster.id, host.id);
    const res = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(res.body).toMatchObject({ status: 'completed', target: null });
  });
});

describe('with the scheduler off', () => {
  const clock = new FakeClock(Date.now());
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { ...FAST, SCHEDULER_ENABLED: false }, clock })));
  afterAll(() => t.close());

  it('runs no pass on its interval, yet a host whose evacuation is done is in maintenance', async () => {
    const { cluster, hosts, vms } = await lopsided(t.http, 3, 4);
    await setPolicy(t.http, cluster.id, { automationLevel: 'fully-automated', passIntervalSeconds: 10 });
    await t.http.post(`/api/v1/hosts/${hosts[0].id}/maintenance`).expect(202);
    await waitFor(async () => (await t.http.get(`/api/v1/hosts/${hosts[0].id}`)).body.state === 'maintenance');
    for (const vm of vms) expect((await t.http.get(`/api/v1/vms/${vm.id}`)).body.hostId).not.toBe(hosts[0].id);
    await t.http.delete(`/api/v1/hosts/${hosts[0].id}/maintenance`).expect(200);
    // Well past the pass interval, over many ticks: the evacuation pass stays the only one (with the scheduler on, see 'pass interval').
    clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const passes = await t.http.get(`/api/v1/clusters/${cluster.id}/passes`).expect(200);
    expect(passes.body.items.map((p: { trigger: string }) => p.trigger)).toEqual(['maintenance']);
  }, 30_000);
});

describe('hosts with migrations in flight', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { ...FAST, MIGRATION_TIME_SCALE: 1 } })));
  afterAll(() => t.close());

  it('refuses to delete an empty host that a migration is heading to', async () => {
    const cluster = await createCluster(t.http);
    const a = await createHost(t.http, cluster.id, { ...HOST, name: 'a' });
    const b = await createHost(t.http, cluster.id, { ...HOST, name: 'b' });
    const vm = await createVm(t.http, cluster.id, a.id, { vcpus: 1, memoryMib: 16_384 }); // ~14 s at 10 Gbit/s
    const migration = await t.http.post('/api/v1/migrations').send({ vmId: vm.id, targetHostId: b.id }).expect(201);
    const refused = await t.http.delete(`/api/v1/hosts/${b.id}`).expect(409);
    expect(refused.body.detail).toContain('migration');
    await t.http.post(`/api/v1/migrations/${migration.body.id}/cancel`).expect((res) => expect([200, 202]).toContain(res.status));
    await waitFor(async () => (await t.http.get(`/api/v1/migrations/${migration.body.id}`)).body.state === 'cancelled');
    await t.http.delete(`/api/v1/hosts/${b.id}`).expect(204);
  });
});
