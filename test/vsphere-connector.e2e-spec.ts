// The service on a vSphere cluster through vCenter's own API, against govmomi's vCenter simulator
// (vcsim, VMware's implementation of vim25, built from Debian's packages by test/fixtures/vcsim): it
// discovers and collects, imports the DRS rules read-only, balances by vMotion (RelocateVM_Task)
// respecting them, leaves a DRS-enabled cluster alone, adopts a running migration task after a SIGKILL
// without starting a second one, and says what is wrong when vCenter is unreachable or the password is.
// Where each VM really runs is read from the simulator itself (its /vcsim/placement), never through the connector.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, ChildApp, connectorAppEnv, killApp, query, secondsSince, startApp } from './helpers/child-app';
import { readFileSync } from 'node:fs';
import { DEFAULT_VIM_OPTIONS, VimClient } from '../src/connectors/vsphere/vim-client';
import { startVcsim, type Vcsim, type VcsimRulesFile } from './helpers/vcsim';
import { waitFor } from './helpers/wait';

jest.setTimeout(180_000);

interface Migration {
  id: string;
  vmId: string;
  state: string;
  driver: string;
  attempts: number;
  sourceHostId: string;
  targetHostId: string;
  error: string | null;
  progress: { percent: number };
  updatedAt: string;
}

const OURS = 'DC0_C0';
const DRS_ON = 'DC0_C1';
// Both on the busiest host at start (the fixture makes each cluster's first host the busiest): DRS's rule says apart.
const APART = [`${OURS}_H0_VM0`, `${OURS}_H0_VM1`];
const PINNED = `${OURS}_H1_VM0`;
const RULES: VcsimRulesFile = {
  [OURS]: {
    vmGroups: [{ name: 'pinned', vms: [PINNED] }],
    hostGroups: [{ name: 'h1 only', hosts: [`${OURS}_H1`] }],
    rules: [
      { name: 'keep apart', kind: 'anti-affinity', vms: APART },
      { name: 'pinned on h1', kind: 'vm-host', mandatory: true, vmGroup: 'pinned', affineHostGroup: 'h1 only' },
    ],
  },
};

/** A TCP relay in front of vCenter: closing it makes vCenter unreachable, opening it again (same port) brings it back. */
class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async open(): Promise<void> {
    this.server = createServer((socket) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [socket, upstream]) this.sockets.add(s);
      socket.pipe(upstream).pipe(socket);
      const end = () => [socket, upstream].forEach((s) => (s.destroy(), this.sockets.delete(s)));
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  async close(): Promise<void> {
    this.sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

describe('a vSphere cluster through vCenter (vcsim)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-vsphere-e2e-'));
  const databasePath = join(dataDir, 'drs.sqlite');
  let vcsim: Vcsim;
  let relay: Relay;
  let app: ChildApp;
  let clusterId = '';
  const figures: Record<string, string> = {};
  const startedAt = Date.now();
  const env = connectorAppEnv(databasePath, 1);

  const api = (method: string, path: string, body?: unknown) => call(app, method, `/api/v1${path}`, body);
  const get = async (path: string) => (await api('GET', path)).body;

  const settings = (cluster: string, extra: Record<string, unknown> = {}) => ({
    url: `https://127.0.0.1:${relay.port}/sdk`,
    cluster,
    certificateSha256: vcsim.sha256,
    ...extra,
  });
  const credentials = () => ({ username: vcsim.username, password: vcsim.password });
  const ca = () => readFileSync(vcsim.certificateFile!, 'utf8');

  const hostNames = async (id = clusterId) => {
    const page = await get(`/hosts?clusterId=${id}`);
    return new Map<string, string>(page.items.map((h: { id: string; name: string }) => [h.id, h.name]));
  };
  /** VM name → host name, as the service records it. */
  async function recorded(id = clusterId): Promise<Map<string, string>> {
    const names = await hostNames(id);
    const page = await get(`/vms?clusterId=${id}&limit=500`);
    return new Map(page.items.map((vm: { name: string; hostId: string }) => [vm.name, names.get(vm.hostId)!]));
  }
  /** VM name → host name and relocations, as the simulator knows them. */
  async function truth(cluster: string): Promise<Map<string, { host: string; relocations: number }>> {
    const all = await vcsim.placement();
    return new Map(all.filter((p) => p.cluster === cluster).map((p) => [p.vm, { host: p.host, relocations: p.relocations }]));
  }
  const truthHosts = async (cluster: string) => new Map([...(await truth(cluster))].map(([vm, p]) => [vm, p.host]));
  const migrations = async (id = clusterId): Promise<Migration[]> => (await get(`/migrations?clusterId=${id}&limit=500`)).items;
  const settled = (list: Migration[]) => list.every((m) => !['queued', 'running'].includes(m.state));

  beforeAll(async () => {
    const t = Date.now();
    vcsim = await startVcsim({ clusters: 2, hosts: 3, vms: 2, tls: true, drsEnabled: [DRS_ON], load: 7, rules: RULES });
    const url = new URL(vcsim.url);
    relay = new Relay({ host: url.hostname, port: Number(url.port) });
    await relay.open();
    figures.vcsim = secondsSince(t);
    app = await startApp(env);
    clusterId = (await api('POST', '/clusters', { name: 'vsphere' })).body.id;
  });

  afterAll(async () => {
    if (app) await killApp(app);
    await relay?.close();
    await vcsim?.kill();
    rmSync(dataDir, { recursive: true, force: true });
    figures.total = secondsSince(startedAt);
    console.log(`vSphere e2e figures: ${JSON.stringify(figures)}`);
  });

  it('discovers the cluster, collects its utilization and imports its DRS rules read-only', async () => {
    const t = Date.now();
    const put = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'vsphere',
      settings: settings(OURS),
      credentials: credentials(),
    });
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain(vcsim.password);
    const expected = await truthHosts(OURS);
    await waitFor(async () => (await recorded()).size === expected.size, 30_000, 250);
    figures.discovered = secondsSince(t);
    expect(await recorded()).toEqual(expected);
    const hosts = (await get(`/hosts?clusterId=${clusterId}`)).items;
    expect(hosts.map((h: { name: string }) => h.name).sort()).toEqual([`${OURS}_H0`, `${OURS}_H1`, `${OURS}_H2`]);
    // The fixture's hosts: 16 cores at 2,400 MHz, 128 GiB.
    expect(hosts[0]).toMatchObject({ cpuCores: 16, cpuMhz: 16 * 2400, memoryMib: 131072 });

    // Samples from the VMs' quick stats: the busiest host's VMs burn CPU.
    const vm = (await get(`/vms?clusterId=${clusterId}&name=${APART[0]}`)).items[0];
    const points = await waitFor(
      async () => {
        const s = (await get(`/vms/${vm.id}/samples`)).points;
        return s.length >= 2 ? s : null;
      },
      30_000,
      250,
    );
    expect(points[0].cpuMhz).toBeGreaterThan(0);
    // CPU ready from the PerformanceManager's cpu.ready, as a share of the vCPUs' time.
    const ready = points.map((p: { cpuReadyPercent: number | null }) => p.cpuReadyPercent);
    expect(ready.every((r: number | null) => r !== null && r >= 0 && r <= 100)).toBe(true);
    figures.sampled = secondsSince(t);

    const rules = await waitFor(
      async () => {
        const page = await get(`/rules?clusterId=${clusterId}`);
        return page.total === 2 ? page.items : null;
      },
      30_000,
      250,
    );
    expect(
      rules.map((r: { name: string; source: string; kind: string; enforcement: string }) => [r.name, r.source, r.kind, r.enforcement]),
    ).toEqual([
      ['vsphere/keep apart', 'vsphere', 'anti-affinity', 'hard'],
      ['vsphere/pinned on h1', 'vsphere', 'vm-host', 'hard'],
    ]);
    const edit = await api('PATCH', `/rules/${rules[0].id}`, { enabled: false });
    expect(edit.status).toBe(409);
    expect(edit.type).toMatch(/application\/problem\+json/);
    expect(edit.body.detail).toMatch(/imported from vSphere and is read-only/);
    expect((await api('DELETE', `/rules/${rules[0].id}`)).status).toBe(409);
    const connector = await get(`/clusters/${clusterId}/connector`);
    expect(connector).toMatchObject({ kind: 'vsphere', state: 'ok', balancedBy: null, hasCredentials: true });
  });

  it('a fully automated pass balances by vMotion through vCenter and respects the DRS rules', async () => {
    const before = await get(`/clusters/${clusterId}/balance`);
    expect((await api('PUT', `/clusters/${clusterId}/policy`, { automationLevel: 'fully-automated' })).status).toBe(200);
    const t = Date.now();
    const pass = await api('POST', `/clusters/${clusterId}/passes`);
    expect(pass.status).toBe(201);
    expect(pass.body.status).toBe('completed');
    const done = (await waitFor(
      async () => {
        const list = await migrations();
        return list.length > 0 && settled(list) ? list : null;
      },
      120_000,
      250,
    ))!;
    figures.pass = `${secondsSince(t)}, ${done.length} migrations`;
    for (const m of done) expect(m).toMatchObject({ state: 'succeeded', driver: 'vsphere', attempts: 1, error: null });
    // vCenter agrees with the inventory, once the next sync has run.
    const actual = await truthHosts(OURS);
    await waitFor(async () => JSON.stringify([...(await recorded())].sort()) === JSON.stringify([...actual].sort()), 20_000, 250);
    expect(actual.get(APART[0])).not.toBe(actual.get(APART[1]));
    expect(actual.get(PINNED)).toBe(`${OURS}_H1`);
    const after = await get(`/clusters/${clusterId}/balance`);
    figures.imbalance = `${before.imbalance} -> ${after.imbalance}`;
    expect(after.imbalance).toBeLessThan(before.imbalance);
    // Each migration moved its VM once.
    const relocations = [...(await truth(OURS)).values()].reduce((sum, p) => sum + p.relocations, 0);
    expect(relocations).toBe(done.length);
  });

  it('leaves a DRS-enabled cluster to DRS and says so', async () => {
    const other = (await api('POST', '/clusters', { name: 'vsphere-drs' })).body.id;
    expect(
      (await api('PUT', `/clusters/${other}/connector`, { kind: 'vsphere', settings: settings(DRS_ON), credentials: credentials() }))
        .status,
    ).toBe(200);
    const connector = await waitFor(
      async () => {
        const c = await get(`/clusters/${other}/connector`);
        return c.balancedBy ? c : null;
      },
      30_000,
      250,
    );
    expect(connector.balancedBy).toMatch(new RegExp(`vSphere DRS is enabled on cluster "${DRS_ON}"`));
    expect((await api('PUT', `/clusters/${other}/policy`, { automationLevel: 'fully-automated' })).status).toBe(200);
    const pass = await api('POST', `/clusters/${other}/passes`);
    expect(pass.body).toMatchObject({ status: 'skipped', movesRecommended: 0 });
    expect(pass.body.notes).toMatch(/vSphere DRS is enabled.*two balancers would fight/);
    // A move asked by hand is refused by the driver, and nothing moves in vCenter.
    // Once discovered and sampled (without samples a VM counts at its full size), a VM of the busiest host to the calmest one.
    const before = await truth(DRS_ON);
    await waitFor(async () => (await recorded(other)).size === before.size, 30_000, 250);
    const vms = (await get(`/vms?clusterId=${other}`)).items;
    await waitFor(
      async () => {
        for (const v of vms) if ((await get(`/vms/${v.id}/samples`)).points.length === 0) return false;
        return true;
      },
      30_000,
      250,
    );
    const names = await hostNames(other);
    const vm = vms.find((v: { name: string }) => v.name === `${DRS_ON}_H0_VM0`);
    const target = [...names].find(([, name]) => name === `${DRS_ON}_H2`)![0];
    const queued = await api('POST', '/migrations', { vmId: vm.id, targetHostId: target });
    expect(queued.status).toBe(201);
    const ended = await waitFor(
      async () => {
        const m: Migration = await get(`/migrations/${queued.body.id}`);
        return settled([m]) ? m : null;
      },
      30_000,
      250,
    );
    expect(ended).toMatchObject({ state: 'failed', driver: 'vsphere' });
    expect(ended!.error).toMatch(/DRS is enabled/);
    expect(await truth(DRS_ON)).toEqual(before);
    expect((await api('DELETE', `/clusters/${other}/connector`)).status).toBe(204);
  });

  it('a service killed while a RelocateVM_Task runs adopts the task after its restart: one vMotion, the VM where vCenter says', async () => {
    await vcsim.setRelocateDelay(12_000);
    const names = await hostNames();
    const byName = new Map([...names].map(([id, name]) => [name, id]));
    const vm = (await get(`/vms?clusterId=${clusterId}&name=${OURS}_H2_VM0`)).items[0];
    const from = names.get(vm.hostId)!;
    const to = [`${OURS}_H0`, `${OURS}_H2`].find((h) => h !== from)!;
    const relocationsBefore = (await truth(OURS)).get(vm.name)!.relocations;
    const queued = await api('POST', '/migrations', { vmId: vm.id, targetHostId: byName.get(to) });
    expect(queued.status).toBe(201);
    const migrationId: string = queued.body.id;
    await waitFor(
      async () => {
        const m: Migration = await get(`/migrations/${migrationId}`);
        return m.state === 'running' && m.progress.percent > 0;
      },
      30_000,
      250,
    );
    const [{ handle }] = await query<{ handle: string }>(databasePath, 'SELECT handle FROM live_migrations WHERE id = ?', [migrationId]);
    expect(JSON.parse(handle)).toMatchObject({ kind: 'vsphere', pid: 0, task: expect.stringMatching(/^task-/) });
    await killApp(app);
    const t = Date.now();
    app = await startApp(env);
    expect(await get(`/migrations/${migrationId}`)).toMatchObject({ state: 'running', attempts: 1 });
    const ended = (await waitFor(
      async () => {
        const m: Migration = await get(`/migrations/${migrationId}`);
        return settled([m]) ? m : null;
      },
      60_000,
      250,
    ))!;
    figures.adopted = `ended ${ended.state} ${secondsSince(t)} after the kill`;
    expect(ended).toMatchObject({ state: 'succeeded', attempts: 1, driver: 'vsphere' });
    const after = (await truth(OURS)).get(vm.name)!;
    expect(after).toEqual({ host: to, relocations: relocationsBefore + 1 });
    await waitFor(async () => (await recorded()).get(vm.name) === to, 20_000, 250);
    await vcsim.setRelocateDelay(0);
  });

  it('a host vCenter puts in maintenance mode is in maintenance here (nothing placed there), and connected once it leaves', async () => {
    // An administrator's action in vCenter, through the API as govc would do it.
    const admin = new VimClient({
      ...DEFAULT_VIM_OPTIONS,
      url: vcsim.url,
      username: vcsim.username,
      password: vcsim.password,
      caPem: ca(),
    });
    const hostRef = { type: 'HostSystem', value: vcsim.clusters[0].hosts[2].ref };
    const stateOf = async () => (await get(`/hosts?clusterId=${clusterId}&name=${OURS}_H2`)).items[0].state;
    try {
      await admin.connect();
      await admin.invoke('EnterMaintenanceMode_Task', hostRef, { timeout: 0 });
      await waitFor(async () => (await stateOf()) === 'maintenance', 30_000, 250);
      const plan = (await api('POST', `/clusters/${clusterId}/plan`, {})).body;
      const h2 = (await get(`/hosts?clusterId=${clusterId}&name=${OURS}_H2`)).items[0].id;
      expect(plan.moves.filter((m: { toHostId: string }) => m.toHostId === h2)).toEqual([]);
      await admin.invoke('ExitMaintenanceMode_Task', hostRef, { timeout: 0 });
      await waitFor(async () => (await stateOf()) === 'connected', 30_000, 250);
    } finally {
      await admin.close();
    }
  });

  it('goes degraded when vCenter does not answer (passes skipped, nothing deleted) and ok again once it does', async () => {
    const inventory = await recorded();
    const t = Date.now();
    await relay.close();
    const degraded = await waitFor(
      async () => {
        const c = await get(`/clusters/${clusterId}/connector`);
        return c.state === 'degraded' ? c : null;
      },
      30_000,
      250,
    );
    figures.degradedAfter = secondsSince(t);
    expect(degraded.lastError).toMatch(/unreachable|refused|ECONNREFUSED|connect/i);
    const pass = await api('POST', `/clusters/${clusterId}/passes`);
    expect(pass.body.status).toBe('skipped');
    expect(await recorded()).toEqual(inventory);
    const back = Date.now();
    await relay.open();
    await waitFor(async () => (await get(`/clusters/${clusterId}/connector`)).state === 'ok', 30_000, 250);
    figures.recoveredAfter = secondsSince(back);
  });

  it('says the password is wrong, never what it is, and syncs nothing', async () => {
    const other = (await api('POST', '/clusters', { name: 'vsphere-wrong' })).body.id;
    const wrong = 'not-the-password-9f3a';
    const put = await api('PUT', `/clusters/${other}/connector`, {
      kind: 'vsphere',
      settings: settings(OURS),
      credentials: { username: vcsim.username, password: wrong },
    });
    expect(put.status).toBe(200);
    const degraded = await waitFor(
      async () => {
        const c = await get(`/clusters/${other}/connector`);
        return c.state === 'degraded' ? c : null;
      },
      30_000,
      250,
    );
    expect(degraded.lastError).toMatch(/login|password|authenticat/i);
    expect(JSON.stringify(degraded)).not.toContain(wrong);
    expect(app.stderr()).not.toContain(wrong);
    expect((await get(`/vms?clusterId=${other}`)).total).toBe(0);
    // And a certificate that is not the pinned one is refused before any password is sent.
    const pinned = await api('PUT', `/clusters/${other}/connector`, {
      kind: 'vsphere',
      settings: settings(OURS, { certificateSha256: 'ab'.repeat(32) }),
      credentials: credentials(),
    });
    expect(pinned.status).toBe(200);
    await waitFor(
      async () => /certificate|fingerprint|thumbprint/i.test((await get(`/clusters/${other}/connector`)).lastError ?? ''),
      30_000,
      250,
    );
  });
});
