// Replicas. On SQLite one process owns every cluster and says so. On PostgreSQL (the suite's PostgreSQL run,
// TEST_DATABASE_URL) three replicas run as processes of their own on loopback against one database: the
// clusters are shared out among them; a replica killed with SIGKILL while migrations run has its clusters
// taken over within two lease periods, and no migration is lost or recorded as done twice; a replica frozen
// with SIGSTOP past its lease and then resumed does not act on the clusters it lost (fencing); their PostgreSQL
// server (one of their own) restarted under load: 503 with Retry-After meanwhile, and they recover by themselves.
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { Database } from '../src/database/database.service';
import { acquireLease, databaseNow, holdsLease, renewLeases } from '../src/replicas/leases.repository';
import { call, ChildApp, killApp, query, sleep, startApp } from './helpers/child-app';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { PrivatePostgres } from './helpers/private-postgres';
import { onPostgres } from './helpers/test-database';
import { waitFor } from './helpers/wait';

/** waitFor's value: it throws rather than give up. */
const waitForValue = async <T>(check: () => Promise<T | undefined>, timeoutMs: number, everyMs?: number): Promise<T> =>
  (await waitFor(check, timeoutMs, everyMs))!;

jest.setTimeout(180_000);

describe('one process on SQLite (or a replica alone on PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { REPLICA_NAME: 'solo' } })));
  afterAll(async () => {
    await t.close();
    // Started again on the first app's database (below), it does not own that folder.
    removeTempDir(dirname(t.databasePath));
  });

  it('owns every cluster, names itself at /replicas and /health, and runs a pass asked of it', async () => {
    const cluster = (await t.http.post('/api/v1/clusters').send({ name: 'alone' }).expect(201)).body;
    await t.http
      .put(`/api/v1/clusters/${cluster.id}/inventory`)
      .send({ hosts: [{ name: 'h1', cpuCores: 8, cpuMhz: 20000, memoryMib: 65536 }], vms: [] })
      .expect(200);
    const pass = (await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201)).body;
    expect(pass.status).toBe('completed');
    const replicas = (await t.http.get('/api/v1/replicas').expect(200)).body;
    expect(replicas.replicas.map((r: { id: string; self: boolean }) => [r.id, r.self])).toEqual([['solo', true]]);
    const health = (await t.http.get('/health').expect(200)).body;
    if (onPostgres) {
      expect(replicas.mode).toBe('shared');
      const owned = await waitFor(async () => {
        const body = (await t.http.get('/api/v1/replicas')).body;
        return body.replicas[0]?.leases.length === 1 ? body.replicas[0].leases : undefined;
      }, 10_000);
      expect(owned).toEqual([expect.objectContaining({ clusterId: cluster.id, epoch: 1 })]);
      expect(health.info.replica).toEqual({ status: 'up', id: 'solo', mode: 'shared', clusters: [cluster.id] });
    } else {
      expect(replicas.mode).toBe('single');
      expect(health.info.replica).toEqual({ status: 'up', id: 'solo', mode: 'single', clusters: 'all' });
    }
  });

  it('started again under its name, owns its clusters again at once and runs their passes', async () => {
    const clusterId = (await t.http.get('/api/v1/clusters').expect(200)).body.items[0].id;
    const databasePath = t.databasePath;
    await t.app.close();
    const started = Date.now();
    t = await createTestApp({ databasePath, env: { REPLICA_NAME: 'solo' } });
    if (onPostgres) {
      // Its lease, handed back at the shutdown, is taken again at start: no lease period (10 s) to wait.
      const health = (await t.http.get('/health').expect(200)).body;
      expect(health.info.replica.clusters).toEqual([clusterId]);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect((await t.http.post(`/api/v1/clusters/${clusterId}/passes`).expect(201)).body.status).toBe('completed');
  });
});

if (onPostgres) {
  describe('fencing: a replica that has not yet noticed another took its cluster over', () => {
    let t: TestApp;
    // It renews (and so notices) only every minute, with leases of three: within that time it still believes it owns the cluster.
    beforeAll(
      async () =>
        (t = await createTestApp({
          env: { REPLICA_NAME: 'slow', LEASE_TTL_MS: 180_000, LEASE_RENEW_MS: 60_000, SCHEDULER_ENABLED: false },
        })),
    );
    afterAll(() => t.close());

    it('records no pass and starts no migration there', async () => {
      const cluster = (await t.http.post('/api/v1/clusters').send({ name: 'taken' }).expect(201)).body;
      const hosts = ['h1', 'h2'].map((name) => ({ name, cpuCores: 8, cpuMhz: 20000, memoryMib: 65536 }));
      await t.http
        .put(`/api/v1/clusters/${cluster.id}/inventory`)
        .send({ hosts, vms: [{ name: 'v1', hostName: 'h1', vcpus: 1, memoryMib: 1024 }] })
        .expect(200);
      expect((await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201)).body.status).toBe('completed');
      // Another replica takes the lease over, as its acquisition does once a lease ran out: the epoch grows by one.
      await query(t.databasePath, `UPDATE cluster_leases SET "replicaId" = 'other', epoch = epoch + 1 WHERE "clusterId" = $1`, [
        cluster.id,
      ]);
      const refused = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`);
      expect(refused.status).toBe(503);
      expect(refused.body.detail).toMatch(/no longer owns cluster/);
      const passes = (await t.http.get(`/api/v1/clusters/${cluster.id}/passes`).expect(200)).body;
      expect(passes.total).toBe(1);
      const vm = (await t.http.get(`/api/v1/vms?clusterId=${cluster.id}`).expect(200)).body.items[0];
      const h2 = (await t.http.get(`/api/v1/hosts?clusterId=${cluster.id}`).expect(200)).body.items.find(
        (h: { name: string }) => h.name === 'h2',
      );
      const queued = (await t.http.post('/api/v1/migrations').send({ vmId: vm.id, targetHostId: h2.id }).expect(201)).body;
      await sleep(2000);
      expect((await t.http.get(`/api/v1/migrations/${queued.id}`).expect(200)).body.state).toBe('queued');
    });
  });

  describe('the lease row under writes in progress', () => {
    let t: TestApp;
    beforeAll(
      async () =>
        (t = await createTestApp({
          env: { REPLICA_NAME: 'locks', LEASE_TTL_MS: 180_000, LEASE_RENEW_MS: 60_000, SCHEDULER_ENABLED: false },
        })),
    );
    afterAll(() => t.close());

    it("an owner's renewal does not wait for its writes in progress; a takeover does, so none of them commits after it", async () => {
      const cluster = (await t.http.post('/api/v1/clusters').send({ name: 'locks' }).expect(201)).body;
      await waitFor(
        async () =>
          (await query<{ epoch: number }>(t.databasePath, `SELECT epoch FROM cluster_leases WHERE "clusterId" = $1`, [cluster.id]))[0],
        10_000,
      );
      const db = t.app.get(Database);
      const order: string[] = [];
      let release!: () => void;
      // Held at most 3 s (PostgreSQL ends a transaction idle for DATABASE_BUSY_TIMEOUT_MS, 5 s).
      const held = new Promise<void>((resolve) => {
        release = resolve;
        setTimeout(resolve, 3000);
      });
      // A write acting on the cluster, as every pass record and migration change is: fenced, then still going on.
      const write = db.transaction(
        async (m) => {
          expect(await holdsLease(m, cluster.id, 'locks', 1)).toBe(true);
          order.push('fenced');
          await held;
          order.push('write committed');
        },
        { affects: [] },
      );
      await waitFor(async () => order.includes('fenced'), 5000, 20);
      const beside = { affects: [], unqueued: true, readCommitted: true };
      await db.transaction(async (m) => {
        const now = await databaseNow(m);
        await renewLeases(m, 'locks', now, now + 180_000);
      }, beside);
      order.push('renewed');
      await query(t.databasePath, `UPDATE cluster_leases SET "expiresAt" = 1 WHERE "clusterId" = $1`, [cluster.id]);
      order.push('ran out');
      const takeover = db
        .transaction(async (m) => {
          const now = await databaseNow(m);
          return acquireLease(m, cluster.id, 'other', now, now + 180_000);
        }, beside)
        .then((epoch) => order.push(`taken over at epoch ${epoch}`));
      await sleep(500);
      order.push('write let go');
      release();
      await Promise.all([write, takeover]);
      expect(order).toEqual(['fenced', 'renewed', 'ran out', 'write let go', 'write committed', 'taken over at epoch 2']);
    });
  });

  describe('a lease that ran out with no other replica taking it (the replica stalled past it)', () => {
    let t: TestApp;
    // It renews (and so notices) only every minute, unless something makes it look sooner (a cluster created).
    beforeAll(
      async () =>
        (t = await createTestApp({
          env: {
            REPLICA_NAME: 'stalled',
            LEASE_TTL_MS: 180_000,
            LEASE_RENEW_MS: 60_000,
            SCHEDULER_ENABLED: false,
            MIGRATION_TIME_SCALE: 4,
          },
        })),
    );
    afterAll(() => t.close());

    it('is taken again with a new epoch, and the migration whose end was refused meanwhile is settled and done once', async () => {
      const cluster = (await t.http.post('/api/v1/clusters').send({ name: 'stalled' }).expect(201)).body;
      const hosts = ['h1', 'h2'].map((name) => ({ name, cpuCores: 8, cpuMhz: 20000, memoryMib: 65536 }));
      await t.http
        .put(`/api/v1/clusters/${cluster.id}/inventory`)
        .send({ hosts, vms: [{ name: 'v1', hostName: 'h1', vcpus: 1, memoryMib: 4096 }] })
        .expect(200);
      const leaseOf = async () =>
        (await query<{ epoch: number }>(t.databasePath, `SELECT epoch FROM cluster_leases WHERE "clusterId" = $1`, [cluster.id]))[0];
      await waitFor(leaseOf, 10_000);
      const vm = (await t.http.get(`/api/v1/vms?clusterId=${cluster.id}`).expect(200)).body.items[0];
      const h2 = (await t.http.get(`/api/v1/hosts?clusterId=${cluster.id}`).expect(200)).body.items.find(
        (h: { name: string }) => h.name === 'h2',
      );
      const queued = (await t.http.post('/api/v1/migrations').send({ vmId: vm.id, targetHostId: h2.id }).expect(201)).body;
      const migration = async () => (await t.http.get(`/api/v1/migrations/${queued.id}`).expect(200)).body;
      await waitFor(async () => (await migration()).state === 'running', 10_000);
      // The lease runs out while the migration runs: its end cannot be recorded (fenced), and it stays running.
      await query(t.databasePath, `UPDATE cluster_leases SET "expiresAt" = 1 WHERE "clusterId" = $1`, [cluster.id]);
      await sleep(4000);
      expect((await migration()).state).toBe('running');
      // A cluster created makes the replica look at the leases now.
      await t.http.post('/api/v1/clusters').send({ name: 'nudge' }).expect(201);
      const ended = await waitForValue(
        async () => {
          const m = await migration();
          return m.state === 'running' || m.state === 'queued' ? undefined : m;
        },
        20_000,
        200,
      );
      expect(ended.state).toBe('succeeded');
      expect(Number((await leaseOf()).epoch)).toBe(2);
      expect((await t.http.get(`/api/v1/vms/${vm.id}`).expect(200)).body.hostId).toBe(h2.id);
      const succeeded = await query<{ n: number }>(
        t.databasePath,
        `SELECT COUNT(*) AS n FROM events WHERE type = 'migration.succeeded' AND "subjectId" = $1`,
        [queued.id],
      );
      expect(Number(succeeded[0].n)).toBe(1);
    });
  });

  const TTL = 3000;
  const PASS_EVERY = 10;
  const CLUSTERS = 6;
  const HOSTS = 4;
  const VMS = 12;

  describe('three replicas on one PostgreSQL database', () => {
    const dir = makeTempDir();
    const databasePath = join(dir, 'drs.sqlite');
    // A PostgreSQL server of their own: the last test stops and starts it under load, as an operator's restart does.
    let server: PrivatePostgres;
    beforeAll(async () => (server = await PrivatePostgres.start()));
    /** Reads the replicas' database directly. */
    const db = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
      const client = new Client({ connectionString: server.url() });
      await client.connect();
      try {
        return (await client.query(text, params)).rows as T[];
      } finally {
        await client.end();
      }
    };
    const env = (name: string) => ({
      DATABASE_PATH: databasePath,
      DATABASE_URL: server.url(),
      REPLICA_NAME: name,
      LEASE_TTL_MS: TTL,
      LEASE_RENEW_MS: 500,
      // Passes every PASS_EVERY seconds on each cluster (manual automation: recommendations only).
      SCHEDULER_TICK_MS: 200,
      // A transaction left open by a frozen replica is ended (its locks released) within a lease.
      DATABASE_BUSY_TIMEOUT_MS: 2000,
      DEMO_ENABLED: false,
      // About 1.5 s per migration.
      MIGRATION_TIME_SCALE: 4,
      MIGRATION_MAX_PER_HOST: 2,
      MIGRATION_MAX_ATTEMPTS: 10,
      MIGRATION_RETRY_BACKOFF_SECONDS: 0.1,
      // Connector changes made through another replica: not looked for on a timer within a test, so that what must
      // follow them at once (a migration started on the cluster) is seen to.
      CONNECTOR_RECONCILE_SECONDS: 3600,
    });
    const apps = new Map<string, ChildApp>();
    const clusterIds: string[] = [];

    afterAll(async () => {
      for (const app of apps.values()) {
        app.proc.kill('SIGCONT');
        await killApp(app);
      }
      await server?.close();
      removeTempDir(dir);
    });

    type Lease = { clusterId: string; epoch: number };
    type Replica = { id: string; alive: boolean; leases: Lease[] };
    const replicasSeenBy = async (name: string): Promise<Replica[]> =>
      (await call(apps.get(name)!, 'GET', '/api/v1/replicas')).body.replicas;
    /** Cluster → owning replica, from the database. */
    const owners = async () =>
      new Map(
        (
          await db<{ clusterId: string; replicaId: string; epoch: number }>(
            `SELECT "clusterId", "replicaId", epoch FROM cluster_leases WHERE "expiresAt" > (extract(epoch from clock_timestamp()) * 1000)`,
          )
        ).map((l) => [l.clusterId, { replica: l.replicaId, epoch: Number(l.epoch) }]),
      );

    /** Asks for every VM of the cluster to move to the next host; resolves to the migrations' ids. */
    const migrateAll = async (via: ChildApp, clusterId: string): Promise<string[]> => {
      const hosts = (await call(via, 'GET', `/api/v1/hosts?clusterId=${clusterId}&limit=100`)).body.items as { id: string; name: string }[];
      hosts.sort((a, b) => a.name.localeCompare(b.name));
      const vms = (await call(via, 'GET', `/api/v1/vms?clusterId=${clusterId}&limit=100`)).body.items as { id: string; hostId: string }[];
      const ids: string[] = [];
      for (const vm of vms) {
        const next = hosts[(hosts.findIndex((h) => h.id === vm.hostId) + 1) % hosts.length];
        const res = await call(via, 'POST', '/api/v1/migrations', { vmId: vm.id, targetHostId: next.id });
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
      return ids;
    };

    /**
     * Once a migration runs on a cluster the replica owns (the test queues them meanwhile): the clusters it owns at
     * that moment, and every cluster's owner.
     */
    const whenMigratingOn = (name: string) =>
      waitForValue(
        async () => {
          const now = await owners();
          const clusters = clusterIds.filter((id) => now.get(id)?.replica === name);
          if (clusters.length === 0) return undefined;
          const rows = await db<{ n: number }>(
            `SELECT COUNT(*) AS n FROM live_migrations WHERE state = 'running' AND "clusterId" = ANY($1)`,
            [clusters],
          );
          return Number(rows[0].n) > 0 ? { clusters, owners: now } : undefined;
        },
        30_000,
        50,
      );

    /** Every migration ended succeeded, recorded so once, and its VM is on its target. */
    const expectEachDoneOnce = async (via: ChildApp, ids: string[]) => {
      const ended = await waitForValue(
        async () => {
          const rows = await Promise.all(ids.map(async (id) => (await call(via, 'GET', `/api/v1/migrations/${id}`)).body));
          return rows.every((m) => ['succeeded', 'failed', 'cancelled'].includes(m.state)) ? rows : undefined;
        },
        90_000,
        500,
      );
      // Each one that did not succeed, with why: none.
      expect(ended.filter((m) => m.state !== 'succeeded').map((m) => `${m.id} ${m.state}: ${m.error}`)).toEqual([]);
      const succeeded = await db<{ subjectId: string; n: number }>(
        `SELECT "subjectId", COUNT(*) AS n FROM events WHERE type = 'migration.succeeded' GROUP BY "subjectId"`,
      );
      const counts = new Map(succeeded.map((r) => [r.subjectId, Number(r.n)]));
      expect(ids.map((id) => counts.get(id) ?? 0)).toEqual(ids.map(() => 1));
      for (const m of ended) {
        const vm = (await call(via, 'GET', `/api/v1/vms/${m.vmId}`)).body;
        expect(vm.hostId).toBe(m.targetHostId);
      }
    };

    /** No cluster had two passes within one interval: never two replicas balancing it at once. */
    const expectNoIntervalTwice = async () => {
      const passes = await db<{ clusterId: string; startedAt: number }>(
        `SELECT "clusterId", "startedAt" FROM passes WHERE trigger = 'interval' AND status <> 'requested' ORDER BY "clusterId", "startedAt"`,
      );
      const tooSoon: string[] = [];
      for (let i = 1; i < passes.length; i++) {
        const [a, b] = [passes[i - 1], passes[i]];
        if (a.clusterId === b.clusterId && Number(b.startedAt) - Number(a.startedAt) < PASS_EVERY * 1000) {
          tooSoon.push(`${b.clusterId}: ${Number(b.startedAt) - Number(a.startedAt)} ms after the previous pass`);
        }
      }
      expect(passes.length).toBeGreaterThanOrEqual(CLUSTERS);
      expect(tooSoon).toEqual([]);
    };

    it('shares the clusters out among the three replicas', async () => {
      for (const name of ['r1', 'r2', 'r3']) apps.set(name, await startApp(env(name)));
      const r1 = apps.get('r1')!;
      for (let c = 0; c < CLUSTERS; c++) {
        const cluster = (await call(r1, 'POST', '/api/v1/clusters', { name: `c${c}` })).body;
        const hosts = Array.from({ length: HOSTS }, (_, i) => ({ name: `h${i}`, cpuCores: 32, cpuMhz: 80000, memoryMib: 262144 }));
        const vms = Array.from({ length: VMS }, (_, i) => ({ name: `vm${i}`, hostName: `h${i % HOSTS}`, vcpus: 1, memoryMib: 2048 }));
        expect((await call(r1, 'PUT', `/api/v1/clusters/${cluster.id}/inventory`, { hosts, vms })).status).toBe(200);
        const policy = await call(r1, 'PUT', `/api/v1/clusters/${cluster.id}/policy`, {
          passIntervalSeconds: PASS_EVERY,
          automationLevel: 'manual',
        });
        expect(policy.status).toBe(200);
        clusterIds.push(cluster.id);
      }
      const spread = await waitForValue(
        async () => {
          const replicas = await replicasSeenBy('r2');
          const counts = replicas.map((r) => r.leases.length).sort();
          return replicas.length === 3 && counts.join() === '2,2,2' ? replicas : undefined;
        },
        30_000,
        250,
      );
      expect(spread.flatMap((r) => r.leases.map((l) => l.clusterId)).sort()).toEqual([...clusterIds].sort());
      // Each replica says which clusters it runs.
      for (const [name, app] of apps) {
        const health = (await call(app, 'GET', '/health')).body;
        expect(health.info.replica.clusters).toEqual(
          spread
            .find((r) => r.id === name)!
            .leases.map((l) => l.clusterId)
            .sort(),
        );
      }
    });

    it("drops a balance report a replica keeps as soon as another replica changes the cluster's inventory", async () => {
      const [r1, r2] = [apps.get('r1')!, apps.get('r2')!];
      const clusterId = clusterIds[0];
      const report = async () => (await call(r2, 'GET', `/api/v1/clusters/${clusterId}/balance`)).body;
      expect((await report()).hosts).toHaveLength(HOSTS);
      expect((await report()).hosts).toHaveLength(HOSTS); // kept: nothing changed
      const res = await call(r1, 'POST', '/api/v1/hosts', { clusterId, name: 'added', cpuCores: 32, cpuMhz: 80000, memoryMib: 262144 });
      expect(res.status).toBe(201);
      // Within the notification's trip, well inside the 10 s a report is otherwise kept.
      const seen = await waitForValue(async () => ((await report()).hosts.length === HOSTS + 1 ? true : undefined), 2000, 20);
      expect(seen).toBe(true);
      expect((await call(r1, 'DELETE', `/api/v1/hosts/${res.body.id}`)).status).toBe(204);
    });

    it("runs a connector configured through another replica on the cluster's owner, and every replica shows its state", async () => {
      const clusterId = clusterIds[2];
      const owner = (await owners()).get(clusterId)!.replica;
      const [other, third] = ['r1', 'r2', 'r3'].filter((name) => name !== owner).map((name) => apps.get(name)!);
      // Nothing answers there: the owner's loops run and report it.
      const put = await call(other, 'PUT', `/api/v1/clusters/${clusterId}/connector`, {
        kind: 'libvirt',
        settings: { hosts: [{ name: 'gone', uri: 'qemu+tcp://127.0.0.1:1/system' }] },
      });
      expect(put.status).toBe(200);
      // A migration queued at once goes through the new connector (whose hosts do not include the VM's), not the
      // simulated driver: the owner follows the stored configuration when it starts a migration, not only on a timer.
      const hosts = (await call(other, 'GET', `/api/v1/hosts?clusterId=${clusterId}&limit=100`)).body.items as { id: string }[];
      const vm = (await call(other, 'GET', `/api/v1/vms?clusterId=${clusterId}&limit=100`)).body.items[0] as { id: string; hostId: string };
      const elsewhere = hosts.find((h) => h.id !== vm.hostId)!;
      const ended = async (id: string) =>
        waitForValue(
          async () => {
            const m = (await call(other, 'GET', `/api/v1/migrations/${id}`)).body;
            return ['succeeded', 'failed', 'cancelled'].includes(m.state) ? m : undefined;
          },
          20_000,
          100,
        );
      const through = (await call(other, 'POST', '/api/v1/migrations', { vmId: vm.id, targetHostId: elsewhere.id })).body;
      expect(await ended(through.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/not in the connector's settings/) });
      for (const app of [other, third, apps.get(owner)!]) {
        const seen = await waitForValue(
          async () => {
            const c = (await call(app, 'GET', `/api/v1/clusters/${clusterId}/connector`)).body;
            return c.state === 'degraded' ? c : undefined;
          },
          20_000,
          200,
        );
        expect(seen.lastError).toMatch(/^gone: /);
      }
      expect((await call(other, 'DELETE', `/api/v1/clusters/${clusterId}/connector`)).status).toBe(204);
      // Removed through another replica: a migration queued at once is the configured driver's again.
      const after = (await call(other, 'POST', '/api/v1/migrations', { vmId: vm.id, targetHostId: elsewhere.id })).body;
      expect(await ended(after.id)).toMatchObject({ state: 'succeeded' });
    });

    it("stops a migration running on its cluster's owner when asked through another replica", async () => {
      const owner = (await owners()).get(clusterIds[1])!.replica;
      const other = apps.get(['r1', 'r2', 'r3'].find((name) => name !== owner)!)!;
      const hosts = (await call(other, 'GET', `/api/v1/hosts?clusterId=${clusterIds[1]}&limit=100`)).body.items as { id: string }[];
      // 64 GiB: it takes long enough to be stopped halfway.
      const vm = (
        await call(other, 'POST', '/api/v1/vms', { clusterId: clusterIds[1], hostId: hosts[0].id, name: 'big', vcpus: 1, memoryMib: 65536 })
      ).body;
      const queued = (await call(other, 'POST', '/api/v1/migrations', { vmId: vm.id, targetHostId: hosts[1].id })).body;
      await waitForValue(
        async () => ((await call(other, 'GET', `/api/v1/migrations/${queued.id}`)).body.state === 'running' ? true : undefined),
        20_000,
        50,
      );
      const cancel = await call(other, 'POST', `/api/v1/migrations/${queued.id}/cancel`);
      expect([200, 202]).toContain(cancel.status);
      const ended = await waitForValue(
        async () => {
          const m = (await call(other, 'GET', `/api/v1/migrations/${queued.id}`)).body;
          return m.state !== 'running' ? m : undefined;
        },
        10_000,
        100,
      );
      expect(ended.state).toBe('cancelled');
      expect((await call(other, 'GET', `/api/v1/vms/${vm.id}`)).body.hostId).toBe(hosts[0].id);
      expect((await call(other, 'DELETE', `/api/v1/vms/${vm.id}`)).status).toBe(204);
    });

    it('takes over the clusters of a replica killed during migrations within two lease periods; each migration done once', async () => {
      const victim = 'r3';
      const r1 = apps.get('r1')!;
      const queueing = Promise.all(clusterIds.map((id) => migrateAll(r1, id)));
      // Some of the victim's migrations are under way when it dies.
      const { clusters: victims, owners: before } = await whenMigratingOn(victim);
      const killedAt = Date.now();
      await killApp(apps.get(victim)!);
      apps.delete(victim);
      const ids = (await queueing).flat();
      const after = await waitForValue(
        async () => {
          const now = await owners();
          return victims.every((id) => ['r1', 'r2'].includes(now.get(id)?.replica ?? '')) ? now : undefined;
        },
        4 * TTL,
        100,
      );
      const failoverMs = Date.now() - killedAt;
      console.log(
        `replicas e2e: the killed replica's ${victims.length} cluster(s) taken over in ${(failoverMs / 1000).toFixed(1)} s (lease ${TTL / 1000} s)`,
      );
      expect(failoverMs).toBeLessThanOrEqual(2 * TTL);
      for (const id of victims) expect(after.get(id)!.epoch).toBeGreaterThan(before.get(id)!.epoch);
      await expectEachDoneOnce(r1, ids);
      // The clusters taken over go on being balanced, on their schedule.
      await waitForValue(
        async () => {
          const rows = await db<{ clusterId: string }>(
            `SELECT DISTINCT "clusterId" FROM passes WHERE trigger = 'interval' AND status = 'completed' AND "startedAt" > $1`,
            [killedAt],
          );
          return victims.every((id) => rows.some((r) => r.clusterId === id)) ? true : undefined;
        },
        4 * PASS_EVERY * 1000,
        250,
      );
      await expectNoIntervalTwice();
    });

    it('a replica frozen (SIGSTOP) past its lease and resumed does not act on the clusters it lost', async () => {
      const frozen = 'r2';
      const r1 = apps.get('r1')!;
      const queueing = Promise.all(clusterIds.map((id) => migrateAll(r1, id)));
      const { clusters: lostClusters } = await whenMigratingOn(frozen);
      const app = apps.get(frozen)!;
      app.proc.kill('SIGSTOP');
      const ids = (await queueing).flat();
      try {
        await waitFor(
          async () => {
            const now = await owners();
            return lostClusters.every((id) => now.get(id)?.replica === 'r1') ? now : undefined;
          },
          4 * TTL,
          100,
        );
        // r1 settles and runs those migrations again while r2 sleeps through what it had started.
        await sleep(TTL);
      } finally {
        app.proc.kill('SIGCONT');
      }
      // Resumed, its runs end and its scheduler ticks: nothing of it may be recorded, and it learns it lost them.
      await waitFor(
        async () => {
          const replicas = await replicasSeenBy(frozen);
          const mine = replicas.find((r) => r.id === frozen)?.leases.map((l) => l.clusterId) ?? [];
          return lostClusters.every((id) => !mine.includes(id)) ? true : undefined;
        },
        10_000,
        200,
      );
      await expectEachDoneOnce(r1, ids);
      await expectNoIntervalTwice();
      // And the clusters are shared out again between the two replicas left.
      const counts = await waitFor(
        async () => {
          const c = (await replicasSeenBy('r1')).filter((r) => r.alive).map((r) => r.leases.length);
          return c.length === 2 && c.every((n) => n === CLUSTERS / 2) ? c : undefined;
        },
        20_000,
        250,
      );
      expect(counts).toEqual([3, 3]);
    });

    it('answers 503 with Retry-After while PostgreSQL restarts under load, writes nothing half, and recovers by itself', async () => {
      const live = ['r1', 'r2'].map((name) => apps.get(name)!);
      const ids = (await Promise.all(clusterIds.map((id) => migrateAll(live[0], id)))).flat();
      await waitFor(
        async () => Number((await db<{ n: number }>(`SELECT COUNT(*) AS n FROM live_migrations WHERE state = 'running'`))[0].n) > 0,
        20_000,
        50,
      );
      await server.down();
      const cutAt = Date.now();
      const statuses = new Map<number, number>();
      const retryAfter = new Set<string | null>();
      // Down for two lease periods: every lease runs out meanwhile, and the replicas stop acting on their clusters.
      while (Date.now() - cutAt < 2 * TTL) {
        for (const app of live) {
          for (const path of ['/api/v1/clusters', `/api/v1/clusters/${clusterIds[0]}/balance`]) {
            const res = await fetch(app.baseUrl + path);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 503) retryAfter.add(res.headers.get('retry-after'));
            await res.text();
          }
        }
        await sleep(200);
      }
      await server.up();
      // A report computed before the outage may still be served from memory; nothing else answers, and nothing fails.
      expect([...statuses.keys()].filter((status) => status !== 503 && status !== 200)).toEqual([]);
      expect(statuses.get(503)).toBeGreaterThan(0);
      expect([...retryAfter]).toEqual(['2']);
      // By themselves: the replicas serve again and hold every cluster again (with new epochs), shared between them.
      await waitForValue(
        async () => {
          const replicas = (await replicasSeenBy('r1').catch(() => undefined)) ?? [];
          const held = replicas.filter((r) => r.alive).flatMap((r) => r.leases.map((l) => l.clusterId));
          return held.length === CLUSTERS ? true : undefined;
        },
        30_000,
        250,
      );
      await expectEachDoneOnce(live[0], ids);
    });
  });
}
