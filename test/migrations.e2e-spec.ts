// The migration engine through its API: the queue and its caps, cancellation, retries, timeouts,
// refused manual moves, and the command driver against a stand-in script.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import TestAgent from 'supertest/lib/agent';
import { loadSettings } from '../src/config/settings';
import { LiveMigrationService } from '../src/live-migration/live-migration.service';
import { LiveMigrationSettings } from '../src/live-migration/live-migration.settings';
import { createCluster, createHost, createVm, unique } from './helpers/fixtures';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';

const API = '/api/v1';
const FAKE_MIGRATE = join(__dirname, 'fixtures', 'fake-migrate.sh');
const FINAL_STATES = ['succeeded', 'failed', 'cancelled'];

jest.setTimeout(60_000);

interface Migration {
  id: string;
  clusterId: string;
  vmId: string;
  sourceHostId: string;
  targetHostId: string;
  state: string;
  trigger: string;
  reason: string;
  priority: number;
  memoryMib: number;
  driver: string;
  attempts: number;
  maxAttempts: number;
  progress: { percent: number; round: number | null; copiedMib: number; remainingMib: number | null; etaSeconds: number | null };
  downtimeMs: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  nextAttemptAt: string | null;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const getMigration = async (http: TestAgent, id: string) => (await http.get(`${API}/migrations/${id}`).expect(200)).body as Migration;

function waitForState(http: TestAgent, id: string, states: string[], timeoutMs?: number): Promise<Migration> {
  return waitFor(
    `migration ${id} to be ${states.join(' or ')}`,
    async () => {
      const m = await getMigration(http, id);
      return states.includes(m.state) ? m : undefined;
    },
    timeoutMs,
  );
}

async function allMigrations(http: TestAgent, query: Record<string, string>): Promise<Migration[]> {
  const items: Migration[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await http
      .get(`${API}/migrations`)
      .query({ ...query, limit: 1000, offset })
      .expect(200);
    items.push(...page.body.items);
    if (items.length >= page.body.total) return items;
  }
}

async function waitUntilDrained(http: TestAgent, clusterId: string, timeoutMs = 40_000): Promise<Migration[]> {
  await waitFor(
    `the queue of cluster ${clusterId} to drain`,
    async () => {
      const res = await http.get(`${API}/migrations`).query({ clusterId, state: 'queued,running', limit: 1 }).expect(200);
      return res.body.total === 0 ? true : undefined;
    },
    timeoutMs,
  );
  return allMigrations(http, { clusterId });
}

const move = (http: TestAgent, vmId: string, targetHostId: string, extra: Record<string, unknown> = {}) =>
  http.post(`${API}/migrations`).send({ vmId, targetHostId, ...extra });

async function vmHost(http: TestAgent, vmId: string): Promise<string> {
  return (await http.get(`${API}/vms/${vmId}`).expect(200)).body.hostId;
}

const ms = (iso: string | null) => Date.parse(iso as string);

/**
 * An end shortly before the other running migrations' tells a refill from a batch no better than a
 * tie: the dispatcher's own latency (a transaction or two, longer on a loaded machine) decides it.
 */
const DECISIVE_MS = 100;

/**
 * Of a cluster's migrations: the ends after which another migration was still waiting while others
 * ran on for DECISIVE_MS or more, and among them those after which the next start came before all
 * those others had ended.
 */
function refills(rs: Migration[]): { ends: number; refilled: number } {
  let ends = 0;
  let refilled = 0;
  for (const done of rs) {
    const t0 = ms(done.finishedAt);
    const waiting = rs.some((r) => ms(r.createdAt) <= t0 && ms(r.startedAt) > t0);
    const others = rs.filter((r) => r !== done && ms(r.startedAt) <= t0 && ms(r.finishedAt) > t0);
    if (!waiting || others.length === 0) continue;
    const othersEnded = Math.max(...others.map((r) => ms(r.finishedAt)));
    if (othersEnded - t0 < DECISIVE_MS) continue;
    ends++;
    const nextStart = Math.min(...rs.filter((r) => ms(r.startedAt) >= t0 && r !== done).map((r) => ms(r.startedAt)));
    if (nextStart < othersEnded) refilled++;
  }
  return { ends, refilled };
}

/** Highest number of records running at once per key, from their [startedAt, finishedAt) intervals. */
function peakConcurrency(records: Migration[], keysOf: (m: Migration) => string[]): Map<string, number> {
  const events: { t: number; delta: number; key: string }[] = [];
  for (const r of records) {
    for (const key of keysOf(r)) {
      events.push({ t: ms(r.startedAt), delta: 1, key }, { t: ms(r.finishedAt), delta: -1, key });
    }
  }
  // An end and a start in the same millisecond: the slot was freed first.
  events.sort((a, b) => a.t - b.t || a.delta - b.delta);
  const current = new Map<string, number>();
  const peak = new Map<string, number>();
  for (const e of events) {
    const n = (current.get(e.key) ?? 0) + e.delta;
    current.set(e.key, n);
    peak.set(e.key, Math.max(peak.get(e.key) ?? 0, n));
  }
  return peak;
}

describe('live migrations: the queue under its concurrency caps', () => {
  const PER_HOST = 2;
  const PER_CLUSTER = 5;
  let t: TestApp;
  beforeAll(
    async () =>
      (t = await createTestApp({
        env: { MIGRATION_TIME_SCALE: 40, MIGRATION_MAX_PER_HOST: PER_HOST, MIGRATION_MAX_PER_CLUSTER: PER_CLUSTER },
      })),
  );
  afterAll(() => t.close());

  let hot: { clusterId: string; records: Migration[]; sources: string[] };
  let spread: { clusterId: string; records: Migration[] };

  /** Eight hosts; 100 VMs placed by `placeVm`, each moved to the host `targetOf` picks; 4 GiB each unless `memoryOf` says. */
  async function seed(name: string, placeVm: (i: number) => number, targetOf: (i: number) => number, memoryOf = (_i: number) => 4096) {
    const cluster = await createCluster(t.http, unique(name));
    const hosts = Array.from({ length: 8 }, (_, i) => ({
      name: `${name}-h${i}`,
      cpuCores: 64,
      cpuMhz: 64 * 2600,
      memoryMib: 1024 * 1024,
      migrationGbps: 10,
    }));
    const vms = Array.from({ length: 100 }, (_, i) => ({
      name: `${name}-vm${i}`,
      hostName: hosts[placeVm(i)].name,
      vcpus: 1,
      memoryMib: memoryOf(i),
    }));
    await t.http.put(`${API}/clusters/${cluster.id}/inventory`).send({ hosts, vms }).expect(200);
    const hostIds = new Map<string, string>(
      (await t.http.get(`${API}/hosts`).query({ clusterId: cluster.id, limit: 100 }).expect(200)).body.items.map(
        (h: { name: string; id: string }) => [h.name, h.id],
      ),
    );
    const vmList = (await t.http.get(`${API}/vms`).query({ clusterId: cluster.id, limit: 1000 }).expect(200)).body.items as {
      id: string;
      name: string;
    }[];
    const byName = new Map(vmList.map((v) => [v.name, v.id]));
    return {
      clusterId: cluster.id,
      hostIds,
      moves: vms.map((vm, i) => ({ vmId: byName.get(vm.name)!, targetHostId: hostIds.get(hosts[targetOf(i)].name)! })),
    };
  }

  /** 2 to 16 GiB: migrations of different lengths (50 to 400 ms here), which end at different times. */
  const spreadSize = (i: number) => 1024 * (2 + 2 * ((i * 5) % 8));

  /** Queues the moves twenty at a time; every one is accepted. */
  async function queueMoves(moves: { vmId: string; targetHostId: string }[]) {
    for (let i = 0; i < moves.length; i += 20) {
      const answers = await Promise.all(moves.slice(i, i + 20).map((r) => move(t.http, r.vmId, r.targetHostId, { reason: 'caps test' })));
      expect(answers.filter((res) => res.status !== 201).map((res) => res.body)).toEqual([]);
    }
  }

  it('runs 200 queued migrations without ever exceeding the per-host or per-cluster cap, using the slots they allow', async () => {
    // "hot": every VM leaves one of two hosts, so the per-host cap binds. "spread": each host sends
    // to its neighbour, so the cluster cap binds first; its VMs differ in size (see the refill test).
    const a = await seed(
      'hot',
      (i) => i % 2,
      (i) => 2 + (i % 6),
    );
    const b = await seed(
      'spread',
      (i) => i % 8,
      (i) => (i + 1) % 8,
      spreadSize,
    );
    await queueMoves([...a.moves, ...b.moves]);
    const hotRecords = await waitUntilDrained(t.http, a.clusterId);
    const spreadRecords = await waitUntilDrained(t.http, b.clusterId);
    const records = [...hotRecords, ...spreadRecords];
    expect(records).toHaveLength(200);
    expect(records.filter((r) => r.state !== 'succeeded')).toEqual([]);

    const perHost = peakConcurrency(records, (r) => [r.sourceHostId, r.targetHostId]);
    const perCluster = peakConcurrency(records, (r) => [r.clusterId]);
    expect(Math.max(...perHost.values())).toBeLessThanOrEqual(PER_HOST);
    expect(Math.max(...perCluster.values())).toBeLessThanOrEqual(PER_CLUSTER);
    // The slots were used, not left idle: the two source hosts of "hot" ran at their cap, "spread" at the cluster's.
    const hotSources = [...new Set(hotRecords.map((r) => r.sourceHostId))];
    expect(hotSources.map((h) => perHost.get(h))).toEqual([PER_HOST, PER_HOST]);
    expect(perCluster.get(b.clusterId)).toBe(PER_CLUSTER);

    hot = { clusterId: a.clusterId, records: hotRecords, sources: hotSources };
    spread = { clusterId: b.clusterId, records: spreadRecords };
  });

  it('lists each migration exactly as its own GET shows it, progress and times included', async () => {
    const page = await t.http.get(`${API}/migrations`).query({ clusterId: hot.clusterId, limit: 20 }).expect(200);
    expect(page.body.items).toHaveLength(20);
    for (const item of page.body.items) expect((await t.http.get(`${API}/migrations/${item.id}`).expect(200)).body).toEqual(item);
    // Newest first.
    const created = page.body.items.map((m: Migration) => m.createdAt);
    expect(created).toEqual([...created].sort().reverse());
  });

  it('refills a slot as soon as a migration ends, instead of waiting for a whole batch', async () => {
    // After each end while others wait in the queue, the next start comes before the other
    // migrations running at that moment have all ended (with batches it would come after).
    // Only ends with a migration waiting tell, and only when the others run on for a while: equal
    // VMs queued together end together, and an end a few milliseconds before the others' tells a
    // refill from a batch no better than a tie (on a loaded machine, 48 of 77 ends "refilled" with
    // 4 GiB VMs alone; 70 of 89 with VMs of 2 to 8 GiB but every end counted). How many ends have a
    // migration waiting depends on queueing faster than the migrations end, which a loaded machine
    // does not (40 in one run): then the same scenario runs again in clusters of its own until there
    // are enough ends to judge by. A dispatcher that waits for a whole batch scores 0 on those ends.
    const tally = refills(spread.records);
    for (let round = 0; tally.ends <= 50 && round < 3; round++) {
      const more = await seed(
        unique('refill'),
        (i) => i % 8,
        (i) => (i + 1) % 8,
        spreadSize,
      );
      await queueMoves(more.moves);
      const { ends, refilled } = refills(await waitUntilDrained(t.http, more.clusterId));
      tally.ends += ends;
      tally.refilled += refilled;
    }
    expect(tally.ends).toBeGreaterThan(50);
    expect(tally.refilled / tally.ends).toBeGreaterThan(0.8);
  }, 120_000);

  it('moved every VM to its target and recorded the migration from start to end', async () => {
    const vms = (await t.http.get(`${API}/vms`).query({ clusterId: hot.clusterId, limit: 1000 }).expect(200)).body.items as {
      id: string;
      hostId: string;
    }[];
    const targetOf = new Map(hot.records.map((r) => [r.vmId, r.targetHostId]));
    expect(vms.filter((vm) => vm.hostId !== targetOf.get(vm.id))).toEqual([]);
    for (const r of hot.records) {
      expect(r).toMatchObject({ trigger: 'manual', reason: 'caps test', driver: 'simulated', attempts: 1, memoryMib: 4096, error: null });
      expect(r.progress.percent).toBe(100);
      expect(r.downtimeMs).toBeGreaterThan(0);
      expect(r.downtimeMs).toBeLessThanOrEqual(500);
      expect(ms(r.createdAt)).toBeLessThanOrEqual(ms(r.startedAt));
      expect(ms(r.startedAt)).toBeLessThanOrEqual(ms(r.finishedAt));
    }
  });

  it('lists migrations by cluster, VM, host, state and creation time, a page at a time', async () => {
    const list = (query: Record<string, unknown>) =>
      t.http
        .get(`${API}/migrations`)
        .query(query)
        .expect(200)
        .then((res) => res.body);
    expect((await list({ clusterId: hot.clusterId })).total).toBe(100);
    expect((await list({ clusterId: hot.clusterId, state: 'succeeded' })).total).toBe(100);
    expect((await list({ clusterId: hot.clusterId, state: 'failed,cancelled' })).total).toBe(0);
    const one = hot.records[17];
    expect((await list({ vmId: one.vmId })).items.map((m: Migration) => m.id)).toEqual([one.id]);
    const source = hot.sources[0];
    expect((await list({ hostId: source })).total).toBe(
      hot.records.filter((r) => r.sourceHostId === source || r.targetHostId === source).length,
    );

    const created = hot.records.map((r) => ms(r.createdAt)).sort((x, y) => x - y);
    const middle = created[50];
    const before = await list({ clusterId: hot.clusterId, to: new Date(middle).toISOString() });
    const after = await list({ clusterId: hot.clusterId, from: middle });
    expect(before.total + after.total).toBe(100);
    expect(before.total).toBe(created.filter((c) => c < middle).length);

    const pages = [
      await list({ clusterId: spread.clusterId, limit: 30, offset: 0 }),
      await list({ clusterId: spread.clusterId, limit: 30, offset: 30 }),
    ];
    expect(pages.map((p) => [p.total, p.limit, p.offset, p.items.length])).toEqual([
      [100, 30, 0, 30],
      [100, 30, 30, 30],
    ]);
    const ids = [...pages[0].items, ...pages[1].items].map((m: Migration) => m.id);
    expect(new Set(ids).size).toBe(60);
    // Newest first.
    const stamps = pages[0].items.map((m: Migration) => ms(m.createdAt));
    expect(stamps).toEqual([...stamps].sort((x, y) => y - x));
  });
});

describe('live migrations: order, reservations and cancellation', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { MIGRATION_TIME_SCALE: 50, MIGRATION_MAX_PER_HOST: 1 } })));
  afterAll(() => t.close());

  it('holds the target memory while running, cancels queued and running migrations, and starts the rest by priority', async () => {
    const cluster = await createCluster(t.http);
    const host = () => createHost(t.http, cluster.id, { memoryMib: 1024 * 1024, cpuCores: 64, cpuMhz: 166400 });
    const [h1, h2, h3, h4, h5] = [await host(), await host(), await host(), await host(), await host()];
    // 600 GiB at 10 Gbit/s: about 500 simulated seconds, 10 s of real time at this scale.
    const big = await createVm(t.http, cluster.id, h1.id, { memoryMib: 600 * 1024, vcpus: 1 });
    const [vx, vy, vz] = [
      await createVm(t.http, cluster.id, h1.id),
      await createVm(t.http, cluster.id, h1.id),
      await createVm(t.http, cluster.id, h1.id),
    ];

    const long = (await move(t.http, big.id, h2.id).expect(201)).body as Migration;
    expect(long).toMatchObject({
      state: 'queued',
      trigger: 'manual',
      priority: 2,
      memoryMib: 600 * 1024,
      sourceHostId: h1.id,
      targetHostId: h2.id,
    });
    await waitForState(t.http, long.id, ['running']);

    // h1 is at its cap of 1: these wait.
    const x = (await move(t.http, vx.id, h3.id, { priority: 3 }).expect(201)).body as Migration;
    const y = (await move(t.http, vy.id, h4.id, { priority: 3 }).expect(201)).body as Migration;
    const z = (await move(t.http, vz.id, h5.id, { priority: 1 }).expect(201)).body as Migration;
    const again = await move(t.http, vx.id, h4.id).expect(409);
    expect(again.body.errors.map((e: { field: string }) => e.field)).toContain('vmId');

    // The target holds the memory while the VM still runs on its source.
    const inFlight = await t.app.get(LiveMigrationService).inFlight(cluster.id);
    expect(inFlight.find((f) => f.id === long.id)).toMatchObject({ state: 'running', targetHostId: h2.id, memoryMib: 600 * 1024 });
    expect(
      inFlight
        .filter((f) => f.state === 'queued')
        .map((f) => f.id)
        .sort(),
    ).toEqual([x.id, y.id, z.id].sort());
    expect(await vmHost(t.http, big.id)).toBe(h1.id);
    const toH2 = await t.http.get(`${API}/migrations`).query({ hostId: h2.id, state: 'queued,running' }).expect(200);
    expect(toH2.body.items.map((m: Migration) => m.id)).toEqual([long.id]);

    const running = await waitFor('progress to be recorded', async () => {
      const m = await getMigration(t.http, long.id);
      return m.progress.percent > 0 ? m : undefined;
    });
    expect(running.progress.copiedMib).toBeGreaterThan(0);
    expect(running.progress.etaSeconds).toBeGreaterThan(0);

    const cancelledQueued = await t.http.post(`${API}/migrations/${y.id}/cancel`).expect(200);
    expect(cancelledQueued.body).toMatchObject({ state: 'cancelled', attempts: 0 });

    const cancelledRunning = await t.http.post(`${API}/migrations/${long.id}/cancel`).expect(200);
    expect(cancelledRunning.body).toMatchObject({ state: 'cancelled', cancelRequested: true, attempts: 1 });
    expect(cancelledRunning.body.finishedAt).not.toBeNull();
    expect(await vmHost(t.http, big.id)).toBe(h1.id);
    expect(await vmHost(t.http, vy.id)).toBe(h1.id);
    expect((await t.app.get(LiveMigrationService).inFlight(cluster.id)).find((f) => f.id === long.id)).toBeUndefined();
    const twice = await t.http.post(`${API}/migrations/${long.id}/cancel`).expect(409);
    expect(twice.body.detail).toMatch(/cancelled/);

    // With h1 free again, the priority-1 move goes before the older priority-3 one.
    const [doneZ, doneX] = [await waitForState(t.http, z.id, FINAL_STATES), await waitForState(t.http, x.id, FINAL_STATES)];
    expect([doneZ.state, doneX.state]).toEqual(['succeeded', 'succeeded']);
    expect(ms(doneZ.finishedAt)).toBeLessThanOrEqual(ms(doneX.startedAt));
    expect(await vmHost(t.http, vz.id)).toBe(h5.id);
    expect(await vmHost(t.http, vx.id)).toBe(h3.id);
    const late = await t.http.post(`${API}/migrations/${x.id}/cancel`).expect(409);
    expect(late.body.detail).toMatch(/succeeded/);
  });

  it('refuses manual moves with the reason: target not connected, no room, a hard rule, same host, another cluster', async () => {
    const cluster = await createCluster(t.http);
    const h1 = await createHost(t.http, cluster.id);
    const h2 = await createHost(t.http, cluster.id);
    const small = await createHost(t.http, cluster.id, { memoryMib: 16 * 1024 });
    const down = await createHost(t.http, cluster.id);
    await t.http.patch(`${API}/hosts/${down.id}`).send({ state: 'maintenance' }).expect(200);
    const other = await createHost(t.http, (await createCluster(t.http)).id);
    const vm = await createVm(t.http, cluster.id, h1.id, { memoryMib: 32 * 1024 });
    const partner = await createVm(t.http, cluster.id, h2.id);
    const group = await t.http
      .post(`${API}/groups`)
      .send({ clusterId: cluster.id, name: 'apart', kind: 'vm', memberIds: [vm.id, partner.id] })
      .expect(201);
    await t.http
      .post(`${API}/rules`)
      .send({ clusterId: cluster.id, name: 'keep-replicas-apart', kind: 'anti-affinity', vmGroupId: group.body.id, enforcement: 'hard' })
      .expect(201);

    const refused = async (targetHostId: string, status: number, reason: RegExp) => {
      const res = await move(t.http, vm.id, targetHostId).expect(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toMatch(reason);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('targetHostId');
    };
    await refused(down.id, 409, /maintenance/);
    await refused(small.id, 422, /memory/i);
    await refused(h2.id, 422, /keep-replicas-apart/);
    await refused(h1.id, 409, /already runs on/);
    await refused(other.id, 422, /another cluster/);
    const ghost = await move(t.http, '00000000-0000-4000-8000-000000000000', h2.id).expect(422);
    expect(ghost.body.errors[0].field).toBe('vmId');
    // Nothing was queued by the refusals.
    expect((await t.http.get(`${API}/migrations`).query({ vmId: vm.id }).expect(200)).body.total).toBe(0);
  });

  it('answers bad input with a 400 naming the field, and unknown ids with a 404', async () => {
    const cluster = await createCluster(t.http);
    const h1 = await createHost(t.http, cluster.id);
    const h2 = await createHost(t.http, cluster.id);
    const vm = await createVm(t.http, cluster.id, h1.id);
    const cases: [Record<string, unknown>, string][] = [
      [{ targetHostId: h2.id }, 'vmId'],
      [{ vmId: vm.id }, 'targetHostId'],
      [{ vmId: 'vm-1', targetHostId: h2.id }, 'vmId'],
      [{ vmId: vm.id, targetHostId: h2.id, driver: 'command' }, 'driver'],
      [{ vmId: vm.id, targetHostId: h2.id, priority: 9 }, 'priority'],
      [{ vmId: vm.id, targetHostId: h2.id, priority: null }, 'priority'],
      [{ vmId: vm.id, targetHostId: h2.id, reason: 42 }, 'reason'],
    ];
    for (const [body, field] of cases) {
      const res = await t.http.post(`${API}/migrations`).send(body);
      expect({ status: res.status, fields: (res.body.errors ?? []).map((e: { field: string }) => e.field) }).toMatchObject({
        status: 400,
        fields: expect.arrayContaining([field]),
      });
    }
    for (const [query, field] of [
      [{ state: 'stuck' }, 'state'],
      [{ from: 'yesterday' }, 'from'],
      [{ limit: 0 }, 'limit'],
      [{ hostId: 'h1' }, 'hostId'],
    ] as const) {
      const res = await t.http.get(`${API}/migrations`).query(query).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    await t.http.get(`${API}/migrations/not-a-uuid`).expect(400);
    await t.http.get(`${API}/migrations/00000000-0000-4000-8000-000000000000`).expect(404);
    await t.http.post(`${API}/migrations/00000000-0000-4000-8000-000000000000/cancel`).expect(404);
    expect((await t.http.get(`${API}/migrations`).query({ vmId: vm.id }).expect(200)).body.total).toBe(0);
  });
});

describe('live migrations: failures, retries and timeouts', () => {
  let t: TestApp;
  beforeAll(
    async () =>
      (t = await createTestApp({
        env: {
          MIGRATION_TIME_SCALE: 100,
          MIGRATION_FAILURE_PROBABILITY: 0.5,
          MIGRATION_MAX_ATTEMPTS: 2,
          MIGRATION_RETRY_BACKOFF_SECONDS: 0.3,
        },
      })),
  );
  afterAll(() => t.close());

  it('retries a transient failure after the backoff and gives up after the last attempt, the VM staying on its source', async () => {
    const cluster = await createCluster(t.http);
    const hosts = [];
    for (let i = 0; i < 6; i++) hosts.push(await createHost(t.http, cluster.id));
    const moves = [];
    for (let i = 0; i < 60; i++) {
      const vm = await createVm(t.http, cluster.id, hosts[i % 6].id, { vcpus: 1, memoryMib: 2048 });
      moves.push((await move(t.http, vm.id, hosts[(i + 1) % 6].id).expect(201)).body as Migration);
    }
    const records = await waitUntilDrained(t.http, cluster.id);
    const failed = records.filter((r) => r.state === 'failed');
    const retried = records.filter((r) => r.state === 'succeeded' && r.attempts === 2);
    const firstTime = records.filter((r) => r.state === 'succeeded' && r.attempts === 1);
    // Half the attempts fail (injected, transient): some succeed at once, some on the retry, some never.
    expect([failed.length > 0, retried.length > 0, firstTime.length > 0]).toEqual([true, true, true]);
    expect(failed.length + retried.length + firstTime.length).toBe(60);
    for (const r of failed) {
      expect(r.attempts).toBe(2);
      expect(r.error).toMatch(/injected failure/);
      expect(await vmHost(t.http, r.vmId)).toBe(r.sourceHostId);
    }
    for (const r of [...retried, ...firstTime]) expect(await vmHost(t.http, r.vmId)).toBe(r.targetHostId);
    // The retry waited for the backoff: its attempt started at least 0.3 s after the request.
    for (const r of retried) expect(ms(r.startedAt) - ms(r.createdAt)).toBeGreaterThanOrEqual(300);
    // A success clears the error its failed first attempt left.
    for (const r of retried) expect(r.error).toBeNull();
  });
});

describe('live migrations: time limit', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { MIGRATION_TIME_SCALE: 1000, MIGRATION_TIME_LIMIT_SECONDS: 60 } })));
  afterAll(() => t.close());

  it('aborts an attempt that outlasts the time limit and fails it, the VM staying on its source', async () => {
    const cluster = await createCluster(t.http);
    const spec = { memoryMib: 4 * 1024 * 1024, cpuCores: 64, cpuMhz: 166400, migrationGbps: 1 };
    const h1 = await createHost(t.http, cluster.id, spec);
    const h2 = await createHost(t.http, cluster.id, spec);
    // 1 TiB over 1 Gbit/s: round 0 alone takes about 8,800 simulated seconds, far past the 60 s limit.
    const vm = await createVm(t.http, cluster.id, h1.id, { memoryMib: 1024 * 1024, vcpus: 1 });
    const started = Date.now();
    const created = (await move(t.http, vm.id, h2.id).expect(201)).body as Migration;
    const done = await waitForState(t.http, created.id, FINAL_STATES);
    expect(done).toMatchObject({ state: 'failed', attempts: 1 });
    expect(done.error).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await vmHost(t.http, vm.id)).toBe(h1.id);
  });
});

describe('live migrations: the command driver', () => {
  const dir = makeTempDir();
  const databasePath = join(dir, 'drs.sqlite');
  // The VM's name picks the script's behaviour: succeed; fail (exit 75, transient, with the last
  // argument as its message); sleep 75 s (writing the pid of its child to the last argument); or an
  // unknown mode (exit 64, not transient).
  const pidFile = (host: string) => join(dir, `${host}.pid`);
  const env = {
    MIGRATION_DRIVER: 'command',
    MIGRATION_COMMAND: JSON.stringify([FAKE_MIGRATE, '{vm}', '75', pidFile('{targetHost}')]),
    MIGRATION_RECONCILE_COMMAND: JSON.stringify([FAKE_MIGRATE, 'print-host', '{targetHost}']),
    MIGRATION_MAX_ATTEMPTS: 2,
    MIGRATION_RETRY_BACKOFF_SECONDS: 0.1,
  };
  const waitForPid = (file: string) =>
    waitFor(`a pid in ${file}`, async () => {
      const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
      return /^\d+$/.test(text) ? Number(text) : undefined;
    });
  /** A killed child may linger as a zombie until something reaps it: that counts as gone. */
  const isAlive = (pid: number) => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    return !/^\d+ \(.*\) Z/.test(stat);
  };
  const waitUntilGone = (pid: number) => waitFor(`process ${pid} to end`, async () => (isAlive(pid) ? undefined : true), 3000);
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ databasePath, env })));
  afterAll(async () => {
    await t.close();
    removeTempDir(dir);
  });

  it('moves a VM with the configured command and records its statistics', async () => {
    const cluster = await createCluster(t.http);
    const h1 = await createHost(t.http, cluster.id, { name: 'esx-a' });
    const h2 = await createHost(t.http, cluster.id, { name: 'esx-b' });
    const vm = await createVm(t.http, cluster.id, h1.id, { name: 'succeed' });
    const created = (await move(t.http, vm.id, h2.id).expect(201)).body as Migration;
    expect(created.driver).toBe('command');
    const done = await waitForState(t.http, created.id, FINAL_STATES);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1, downtimeMs: 120, error: null });
    expect(done.progress).toMatchObject({ percent: 100, copiedMib: 5000 });
    expect(await vmHost(t.http, vm.id)).toBe(h2.id);
  });

  it('retries a command that exits with the transient code, and fails at once on any other code', async () => {
    const cluster = await createCluster(t.http);
    const h1 = await createHost(t.http, cluster.id);
    const h2 = await createHost(t.http, cluster.id, { name: 'esx-target' });
    const flaky = await createVm(t.http, cluster.id, h1.id, { name: 'fail' });
    const broken = await createVm(t.http, cluster.id, h1.id, { name: 'unknown-mode' });
    const [a, b] = [(await move(t.http, flaky.id, h2.id).expect(201)).body, (await move(t.http, broken.id, h2.id).expect(201)).body];
    const [doneA, doneB] = [await waitForState(t.http, a.id, FINAL_STATES), await waitForState(t.http, b.id, FINAL_STATES)];
    expect(doneA).toMatchObject({ state: 'failed', attempts: 2 });
    expect(doneA.error).toMatch(/exited with code 75.*esx-target\.pid/s);
    expect(doneB).toMatchObject({ state: 'failed', attempts: 1 });
    expect(doneB.error).toMatch(/exited with code 64.*unknown mode/s);
    expect([await vmHost(t.http, flaky.id), await vmHost(t.http, broken.id)]).toEqual([h1.id, h1.id]);
  });

  it('cancels a running command, killing it', async () => {
    const cluster = await createCluster(t.http);
    const h1 = await createHost(t.http, cluster.id);
    const h2 = await createHost(t.http, cluster.id);
    const vm = await createVm(t.http, cluster.id, h1.id, { name: 'sleep' });
    const created = (await move(t.http, vm.id, h2.id).expect(201)).body as Migration;
    await waitForState(t.http, created.id, ['running']);
    const pid = await waitForPid(pidFile(h2.name));
    expect(isAlive(pid)).toBe(true);
    const started = Date.now();
    const res = await t.http.post(`${API}/migrations/${created.id}/cancel`).expect(200);
    expect(res.body.state).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
    await waitUntilGone(pid);
    expect(await vmHost(t.http, vm.id)).toBe(h1.id);
  });

  it('leaves the command running at shutdown; the next start adopts it and settles it once it ends, asking the reconcile command', async () => {
    const cluster = await createCluster(t.http);
    const h1 = await createHost(t.http, cluster.id);
    const h2 = await createHost(t.http, cluster.id);
    const vm = await createVm(t.http, cluster.id, h1.id, { name: 'sleep' });
    const created = (await move(t.http, vm.id, h2.id).expect(201)).body as Migration;
    await waitForState(t.http, created.id, ['running']);
    const pid = await waitForPid(pidFile(h2.name));
    await t.close();
    // A live migration is not stopped halfway because the service stops.
    expect(isAlive(pid)).toBe(true);
    t = await createTestApp({ databasePath, env });
    expect(await getMigration(t.http, created.id)).toMatchObject({ state: 'running', attempts: 1 });
    // The tool finishes (its child ends); the stand-in reconcile command then answers with the target host.
    process.kill(pid, 'SIGTERM');
    const done = await waitForState(t.http, created.id, FINAL_STATES);
    expect(done.state).toBe('succeeded');
    expect(done.error).toMatch(/interrupted by a restart.*exit status unknown.*command driver found the VM on the target/);
    // Nobody saw the switch-over: its downtime is unknown, not zero.
    expect(done.downtimeMs).toBeNull();
    expect(await vmHost(t.http, vm.id)).toBe(h2.id);
  });

  it('is chosen by configuration only, and a bad command template stops the boot naming the variable', async () => {
    const migrationSettings = (raw: Record<string, unknown>) => loadSettings([LiveMigrationSettings], raw);
    expect(() => migrationSettings({ MIGRATION_COMMAND: 'virsh migrate {vm}' })).toThrow(/MIGRATION_COMMAND=.*JSON array/);
    expect(() => migrationSettings({ MIGRATION_DRIVER: 'command' })).toThrow(/MIGRATION_COMMAND.*required when MIGRATION_DRIVER=command/);
    expect(() => migrationSettings({ MIGRATION_RECONCILE_COMMAND: '["ssh", "{nope}"]' })).toThrow(
      /MIGRATION_RECONCILE_COMMAND.*unknown placeholder \{nope\}/,
    );
    expect(() => migrationSettings({ MIGRATION_DRIVER: 'teleport' })).toThrow(/MIGRATION_DRIVER/);
    await expect(createTestApp({ env: { MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: '["virsh", "migrate"' } })).rejects.toThrow(
      /MIGRATION_COMMAND/,
    );
  });
});
