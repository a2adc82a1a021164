// The service on a Proxmox VE cluster through PVE's own API, against the PVE 9 API simulator (test/fixtures/pve-simulator,
// built from PVE's published API description): it discovers nodes, VMs and containers (holding what PVE does not let it
// move), backfills the first collection from RRD data, imports HA rules and ProxLB tags read-only, balances by live
// migration respecting them, moves HA-managed guests through the HA manager, leaves them to PVE's CRS when it rebalances
// them, adopts a running migration task by UPID after a SIGKILL, and says what is wrong with a wrong token or no endpoint.
// Where each guest really runs, and which tasks PVE ran, is read from the simulator itself, never through the connector.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from './fixtures/pve-simulator/scenario';
import { call, ChildApp, connectorAppEnv, killApp, query, secondsSince, startApp } from './helpers/child-app';
import { startPveSimulator, type PveSimulator } from './helpers/pve-simulator';
import { waitFor } from './helpers/wait';

jest.setTimeout(120_000);

interface Migration {
  id: string;
  vmId: string;
  state: string;
  driver: string;
  attempts: number;
  error: string | null;
  progress: { percent: number };
  downtimeMs: number | null;
  sourceHostId: string;
}

const GIB = 1024;
const TOKEN_ID = 'drs@pve!scheduler';
const SECRET = '5b1e7c2a-93d4-4f11-8a0e-6c0ffee00042';
const AUDITOR_ID = 'audit@pve!ro';
const AUDITOR_SECRET = '5b1e7c2a-93d4-4f11-8a0e-6c0ffee00043';
const NO_CONSOLE_ID = 'vms@pve!balancer';
const NO_CONSOLE_SECRET = '5b1e7c2a-93d4-4f11-8a0e-6c0ffee00044';
const busy = (cpu: number, memory = 0.5) => ({ cpu, cpuNoise: 0.02, memory });
const node = (name: string) => ({ name, cores: 16, sockets: 2, mhz: 2400, memoryMib: 64 * GIB });

const scenario: Scenario = {
  speed: 10,
  migration: { bandwidthMibPerSecond: 1024, setupSeconds: 3 },
  ha: { delaySeconds: 10 },
  authFailureDelaySeconds: 3,
  nodes: [node('pve1'), node('pve2'), node('pve3')],
  guests: [
    // pve1 carries most of the load: the web pair must end apart (ProxLB tag), "pinned" stays (plb_pin_pve1).
    { vmid: 100, name: 'web1', node: 'pve1', cores: 4, memoryMib: 4 * GIB, load: busy(0.8), tags: ['plb_anti_affinity_web'] },
    { vmid: 101, name: 'web2', node: 'pve1', cores: 4, memoryMib: 4 * GIB, load: busy(0.8), tags: ['plb_anti_affinity_web'] },
    { vmid: 102, name: 'app1', node: 'pve1', cores: 4, memoryMib: 4 * GIB, load: busy(0.7) },
    { vmid: 103, name: 'app2', node: 'pve1', cores: 4, memoryMib: 4 * GIB, load: busy(0.7) },
    { vmid: 104, name: 'pinned', node: 'pve1', cores: 2, memoryMib: 2 * GIB, load: busy(0.7), tags: ['plb_pin_pve1'] },
    { vmid: 105, name: 'locked', node: 'pve1', cores: 2, memoryMib: 2 * GIB, load: busy(0.6), lock: 'backup' },
    { vmid: 106, name: 'local', node: 'pve1', cores: 2, memoryMib: 2 * GIB, load: busy(0.6), localDisks: ['local-lvm:vm-106-disk-0'] },
    { vmid: 107, name: 'ignored', node: 'pve1', cores: 2, memoryMib: 2 * GIB, load: busy(0.6), tags: ['plb_ignore_vm'] },
    { vmid: 108, name: 'tmpl', node: 'pve3', cores: 1, memoryMib: 2 * GIB, template: true },
    { vmid: 109, name: 'big', node: 'pve3', cores: 2, memoryMib: 8 * GIB, load: busy(0.1, 0.75) },
    { vmid: 110, name: 'ha1', node: 'pve2', cores: 2, memoryMib: 2 * GIB, load: busy(0.2), ha: { state: 'started' } },
    { vmid: 111, name: 'ha2', node: 'pve2', cores: 2, memoryMib: 2 * GIB, load: busy(0.2), ha: { state: 'started' } },
    { vmid: 200, name: 'ct1', node: 'pve1', type: 'lxc', cores: 2, memoryMib: 1 * GIB, load: busy(0.6) },
  ],
  haRules: [
    { rule: 'ha1-nodes', type: 'node-affinity', resources: ['vm:110'], nodes: ['pve1', 'pve2'], strict: true },
    { rule: 'ha-apart', type: 'resource-affinity', resources: ['vm:110', 'vm:111'], affinity: 'negative' },
  ],
  crs: { ha: 'static' },
  tokens: [
    {
      id: TOKEN_ID,
      secret: SECRET,
      // The privileges the README asks for: audit, migrate, and Sys.Console for the HA manager's migrate.
      acl: [{ path: '/', privs: ['VM.Audit', 'VM.Migrate', 'Sys.Audit', 'Sys.Console'] }],
    },
    { id: AUDITOR_ID, secret: AUDITOR_SECRET, acl: [{ path: '/', role: 'PVEAuditor' }] },
    { id: NO_CONSOLE_ID, secret: NO_CONSOLE_SECRET, acl: [{ path: '/', privs: ['VM.Audit', 'VM.Migrate', 'Sys.Audit'] }] },
  ],
};

describe('a Proxmox VE cluster through its API (PVE 9 simulator)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-proxmox-e2e-'));
  const databasePath = join(dataDir, 'drs.sqlite');
  let sim: PveSimulator;
  let app: ChildApp;
  let clusterId = '';
  const figures: Record<string, string> = {};
  const startedAt = Date.now();
  const env = connectorAppEnv(databasePath, 1);

  const api = (method: string, path: string, body?: unknown) => call(app, method, `/api/v1${path}`, body);
  const get = async (path: string) => (await api('GET', path)).body;

  const settings = (extra: Record<string, unknown> = {}) => ({ endpoints: sim.urls, certificateSha256: sim.fingerprint, ...extra });
  const hostNames = async (id = clusterId) => {
    const page = await get(`/hosts?clusterId=${id}`);
    return new Map<string, string>(page.items.map((h: { id: string; name: string }) => [h.id, h.name]));
  };
  /** Guest name → node, as the service records it. */
  async function recorded(id = clusterId): Promise<Map<string, string>> {
    const names = await hostNames(id);
    const page = await get(`/vms?clusterId=${id}&limit=500`);
    return new Map(page.items.map((vm: { name: string; hostId: string }) => [vm.name, names.get(vm.hostId)!]));
  }
  const vmsByName = async (id = clusterId) => {
    const page = await get(`/vms?clusterId=${id}&limit=500`);
    return new Map<string, { id: string; heldBy: string | null; hostId: string }>(
      page.items.map((vm: { name: string; id: string; heldBy: string | null; hostId: string }) => [vm.name, vm]),
    );
  };
  /** Guest name → node, as PVE (the simulator) knows it. */
  async function truth(): Promise<Map<string, string>> {
    const state = await sim.state();
    const names = new Map(scenario.guests.map((g) => [g.vmid, g.name!]));
    return new Map(state.guests.map((g) => [names.get(g.vmid)!, g.node]));
  }
  const migrations = async (id = clusterId): Promise<Migration[]> => (await get(`/migrations?clusterId=${id}&limit=500`)).items;
  const settled = (list: Migration[]) => list.every((m) => !['queued', 'running'].includes(m.state));
  const connectorOf = (id = clusterId) => get(`/clusters/${id}/connector`);
  const ended = (id: string) =>
    waitFor(
      async () => {
        const m: Migration = await get(`/migrations/${id}`);
        return settled([m]) ? m : null;
      },
      60_000,
      250,
    );

  beforeAll(async () => {
    const t = Date.now();
    sim = await startPveSimulator(scenario);
    figures.simulator = secondsSince(t);
    app = await startApp(env);
    clusterId = (await api('POST', '/clusters', { name: 'pve' })).body.id;
  });

  afterAll(async () => {
    if (app) await killApp(app);
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    figures.total = secondsSince(startedAt);
    console.log(`Proxmox VE e2e figures: ${JSON.stringify(figures)}`);
  });

  it('refuses settings that are not a Proxmox VE connector, naming each field', async () => {
    const bad = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'proxmox',
      settings: { endpoints: ['http://pve1:8006', 'https://user:pw@pve2:8006'], certificateSha256: 'nope', allowLocalDisks: 'yes' },
      credentials: { tokenId: 'root', secret: '' },
    });
    expect(bad.status).toBe(422);
    expect(bad.type).toMatch(/application\/problem\+json/);
    const fields = JSON.stringify(bad.body);
    for (const field of [
      'settings.endpoints.0',
      'settings.endpoints.1',
      'settings.certificateSha256',
      'settings.allowLocalDisks',
      'credentials.tokenId',
      'credentials.secret',
    ])
      expect(fields).toContain(field);
  });

  it('discovers nodes, VMs and containers, holds what PVE does not let it move, backfills samples and imports the rules', async () => {
    const t = Date.now();
    const put = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'proxmox',
      settings: settings(),
      credentials: { tokenId: TOKEN_ID, secret: SECRET },
    });
    expect(put.status).toBe(200);
    expect(JSON.stringify(put.body)).not.toContain(SECRET);
    const expected = await truth();
    expected.delete('tmpl');
    await waitFor(async () => (await recorded()).size === expected.size, 30_000, 250);
    figures.discovered = secondsSince(t);
    expect(await recorded()).toEqual(expected);
    const hosts = (await get(`/hosts?clusterId=${clusterId}`)).items;
    expect(hosts.map((h: { name: string }) => h.name).sort()).toEqual(['pve1', 'pve2', 'pve3']);
    // The scenario's nodes: 16 logical CPUs at 2,400 MHz, 64 GiB.
    expect(hosts[0]).toMatchObject({ cpuCores: 16, cpuMhz: 16 * 2400, memoryMib: 64 * GIB });

    const vms = await vmsByName();
    expect(vms.get('ct1')!.heldBy).toBe('a container (Proxmox VE moves containers only by restart)');
    expect(vms.get('locked')!.heldBy).toMatch(/locked.*backup/);
    expect(vms.get('local')!.heldBy).toMatch(/local disks.*local-lvm:vm-106-disk-0/);
    expect(vms.get('ignored')!.heldBy).toMatch(/plb_ignore_vm/);
    for (const name of ['web1', 'web2', 'app1', 'app2', 'pinned', 'big', 'ha1', 'ha2']) expect(vms.get(name)!.heldBy).toBeNull();
    // A manual move of a held guest is refused, naming the hold.
    const names = await hostNames();
    const pve3 = [...names].find(([, n]) => n === 'pve3')![0];
    const refused = await api('POST', '/migrations', { vmId: vms.get('ct1')!.id, targetHostId: pve3 });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/container/);

    // The first collection brings the last hour from PVE's RRD data, with the samples' own times.
    const points = await waitFor(
      async () => {
        const s = (await get(`/vms/${vms.get('web1')!.id}/samples`)).points;
        return s.length >= 20 ? s : null;
      },
      30_000,
      250,
    );
    const times = points.map((p: { timestamp: string | number }) => new Date(p.timestamp).getTime());
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(20 * 60_000);
    // web1 uses 80 % of 4 vCPUs on 2,400 MHz cores: about 7,680 MHz.
    const last = points[points.length - 1];
    expect(last.cpuMhz).toBeGreaterThan(6500);
    expect(last.cpuMhz).toBeLessThan(8900);
    figures.sampled = secondsSince(t);

    const rules = await waitFor(
      async () => {
        const page = await get(`/rules?clusterId=${clusterId}`);
        return page.total === 4 ? page.items : null;
      },
      30_000,
      250,
    );
    expect(
      rules
        .map((r: { name: string; source: string; kind: string; enforcement: string }) => [r.name, r.source, r.kind, r.enforcement])
        .sort(),
    ).toEqual([
      ['proxmox/ha-apart', 'proxmox', 'anti-affinity', 'hard'],
      ['proxmox/ha1-nodes', 'proxmox', 'vm-host', 'hard'],
      ['proxmox/plb_anti_affinity_web', 'proxmox', 'anti-affinity', 'hard'],
      ['proxmox/plb_pin_pve1', 'proxmox', 'vm-host', 'hard'],
    ]);
    const edit = await api('PATCH', `/rules/${rules[0].id}`, { enabled: false });
    expect(edit.status).toBe(409);
    expect(edit.body.detail).toMatch(/imported from Proxmox VE and is read-only/);
    expect(await connectorOf()).toMatchObject({ kind: 'proxmox', state: 'ok', balancedBy: null, hasCredentials: true });
  });

  it('a fully automated pass balances by live migration through PVE and respects the HA rules and ProxLB tags', async () => {
    const before = await get(`/clusters/${clusterId}/balance`);
    const tasksBefore = (await sim.state()).tasks.length;
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
      60_000,
      250,
    ))!;
    figures.pass = `${secondsSince(t)}, ${done.length} migrations`;
    for (const m of done) expect(m).toMatchObject({ state: 'succeeded', driver: 'proxmox', attempts: 1, error: null });
    // The switch-over's downtime, as the task log says it ("average migration speed: … - downtime N ms").
    for (const m of done) expect(m.downtimeMs).toBeGreaterThan(0);
    const actual = await truth();
    await waitFor(
      async () => JSON.stringify([...(await recorded())].sort()) === JSON.stringify([...actual].sort().filter(([n]) => n !== 'tmpl')),
      20_000,
      250,
    );
    expect(actual.get('web1')).not.toBe(actual.get('web2'));
    expect(actual.get('pinned')).toBe('pve1');
    for (const held of ['locked', 'local', 'ignored', 'ct1']) expect(actual.get(held)).toBe('pve1');
    expect(['pve1', 'pve2']).toContain(actual.get('ha1'));
    expect(actual.get('ha1')).not.toBe(actual.get('ha2'));
    const after = await get(`/clusters/${clusterId}/balance`);
    figures.imbalance = `${before.imbalance} -> ${after.imbalance}`;
    expect(after.imbalance).toBeLessThan(before.imbalance);
    // Each migration is one task in PVE, run by the token's user, ended OK.
    const tasks = (await sim.state()).tasks.slice(tasksBefore).filter((task) => task.type === 'qmigrate' || task.type === 'hamigrate');
    expect(tasks.filter((task) => task.user === TOKEN_ID || task.user === 'root@pam')).toHaveLength(done.length);
    for (const task of tasks) expect(task).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
  });

  it('moves an HA-managed guest through the HA manager and waits for PVE to show it on its target', async () => {
    const names = await hostNames();
    const byName = new Map([...names].map(([id, name]) => [name, id]));
    const where = await truth();
    const from = where.get('ha2')!;
    const other = where.get('ha1')!;
    const to = ['pve1', 'pve2', 'pve3'].find((n) => n !== from && n !== other)!;
    const tasksBefore = (await sim.state()).tasks.length;
    const vm = (await vmsByName()).get('ha2')!;
    const queued = await api('POST', '/migrations', { vmId: vm.id, targetHostId: byName.get(to) });
    expect(queued.status).toBe(201);
    const m = (await ended(queued.body.id))!;
    expect(m).toMatchObject({ state: 'succeeded', driver: 'proxmox', error: null });
    expect((await truth()).get('ha2')).toBe(to);
    // The HA manager ran the migration (its qmigrate task is root@pam's); no qemu-server migrate was asked with the token.
    const tasks = (await sim.state()).tasks.slice(tasksBefore);
    expect(tasks.map((task) => [task.type, task.id, task.user])).toEqual([['qmigrate', '111', 'root@pam']]);

    // A token without Sys.Console asks through qemu-server, whose hamigrate task ends at once: the migration is not over then.
    const put = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'proxmox',
      settings: settings(),
      credentials: { tokenId: NO_CONSOLE_ID, secret: NO_CONSOLE_SECRET },
    });
    expect(put.status).toBe(200);
    const tasksThen = (await sim.state()).tasks.length;
    const back = await api('POST', '/migrations', { vmId: vm.id, targetHostId: byName.get(from) });
    expect(back.status).toBe(201);
    expect(await ended(back.body.id)).toMatchObject({ state: 'succeeded', driver: 'proxmox', error: null });
    expect((await truth()).get('ha2')).toBe(from);
    const asked = (await sim.state()).tasks.slice(tasksThen);
    expect(asked.map((task) => [task.type, task.id, task.user, task.exitstatus])).toEqual([
      ['hamigrate', '111', NO_CONSOLE_ID, 'OK'],
      ['qmigrate', '111', 'root@pam', 'OK'],
    ]);
    const restored = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'proxmox',
      settings: settings(),
      credentials: { tokenId: TOKEN_ID, secret: SECRET },
    });
    expect(restored.status).toBe(200);
  });

  it('a service killed during a migration adopts its task by UPID after the restart: one migration, the guest where PVE says', async () => {
    // Slower simulated time: the migration of "big" (6 GiB of memory to copy) lasts long enough to kill the service in it.
    await sim.control('POST', '/_sim/time', { speed: 1 });
    const names = await hostNames();
    const byName = new Map([...names].map(([id, name]) => [name, id]));
    const vm = (await vmsByName()).get('big')!;
    const from = (await truth()).get('big')!;
    const to = from === 'pve3' ? 'pve2' : 'pve3';
    const tasksBefore = (await sim.state()).tasks.length;
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
    const stored = JSON.parse(handle);
    expect(stored).toMatchObject({ kind: 'proxmox', pid: 0, node: from, vmid: 109, target: to, ha: false });
    expect(stored.upid).toMatch(new RegExp(`^UPID:${from}:.*:qmigrate:109:${TOKEN_ID}:$`));
    await killApp(app);
    const t = Date.now();
    app = await startApp(env);
    await sim.control('POST', '/_sim/time', { speed: 10 });
    const m = (await ended(migrationId))!;
    figures.adopted = `ended ${m.state} ${secondsSince(t)} after the kill`;
    expect(m).toMatchObject({ state: 'succeeded', attempts: 1, driver: 'proxmox' });
    const state = await sim.state();
    expect(state.guests.find((g) => g.vmid === 109)!.node).toBe(to);
    const started = state.tasks.slice(tasksBefore).filter((task) => task.type === 'qmigrate');
    expect(started.map((task) => [task.upid, task.status, task.exitstatus])).toEqual([[stored.upid, 'stopped', 'OK']]);
    await waitFor(async () => (await recorded()).get('big') === to, 20_000, 250);
  });

  it("leaves HA-managed guests to PVE's CRS while it rebalances them, and balances the rest", async () => {
    await sim.control('POST', '/_sim/cluster-options', { crs: { ha: 'static', 'ha-auto-rebalance': 1 } });
    const held = (await waitFor(
      async () => {
        const vms = await vmsByName();
        return vms.get('ha1')!.heldBy && vms.get('ha2')!.heldBy ? vms : null;
      },
      30_000,
      250,
    ))!;
    expect(held.get('ha1')!.heldBy).toBe("HA-managed while Proxmox VE's CRS rebalances HA guests");
    expect(held.get('web1')!.heldBy).toBeNull();
    // Other guests are not HA-managed: the cluster is still this service's to balance, the HA guests PVE's, and it says so.
    const connector = await connectorOf();
    expect(connector.balancedBy).toBeNull();
    expect(connector.notes).toEqual([
      expect.stringMatching(/CRS rebalances the HA-managed guests \(crs: ha-auto-rebalance\): \d+ of them are left to it/),
    ]);
    const balance = (await api('GET', `/clusters/${clusterId}/balance`)).body;
    expect(balance.heldVms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          vmId: held.get('ha1')!.id,
          vmName: 'ha1',
          heldBy: "HA-managed while Proxmox VE's CRS rebalances HA guests",
        }),
      ]),
    );
    const names = await hostNames();
    const target = [...names].find(([id]) => id !== held.get('ha1')!.hostId)![0];
    const refused = await api('POST', '/migrations', { vmId: held.get('ha1')!.id, targetHostId: target });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/CRS rebalances HA guests/);
    const before = await truth();
    const pass = await api('POST', `/clusters/${clusterId}/passes`);
    expect(pass.body.status).toBe('completed');
    await waitFor(async () => settled(await migrations()), 60_000, 250);
    const after = await truth();
    expect([after.get('ha1'), after.get('ha2')]).toEqual([before.get('ha1'), before.get('ha2')]);
    await sim.control('POST', '/_sim/cluster-options', { crs: { ha: 'static' } });
    await waitFor(async () => (await vmsByName()).get('ha1')!.heldBy === null, 30_000, 250);
    expect((await connectorOf()).notes).toEqual([]);
  });

  it('has a node PVE has in HA maintenance in maintenance here, places nothing there, and stays ok', async () => {
    await sim.control('POST', '/_sim/nodes/pve3/maintenance/enable');
    const hostState = async () =>
      new Map<string, string>(
        (await get(`/hosts?clusterId=${clusterId}`)).items.map((h: { name: string; state: string }) => [h.name, h.state]),
      );
    await waitFor(async () => (await hostState()).get('pve3') === 'maintenance', 30_000, 250);
    expect(await connectorOf()).toMatchObject({ state: 'ok', lastError: null });
    const names = await hostNames();
    const pve3 = [...names].find(([, n]) => n === 'pve3')![0];
    const where = await truth();
    const candidate = ['app1', 'app2', 'web1', 'web2'].find((n) => where.get(n) !== 'pve3')!;
    const tasksBefore = (await sim.state()).tasks.length;
    const refused = await api('POST', '/migrations', { vmId: (await vmsByName()).get(candidate)!.id, targetHostId: pve3 });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/maintenance/);
    const ours = (await sim.state()).tasks.slice(tasksBefore).filter((task) => task.user === TOKEN_ID);
    expect(ours).toHaveLength(0);
    await sim.control('POST', '/_sim/nodes/pve3/maintenance/disable');
    await waitFor(async () => (await hostState()).get('pve3') === 'connected', 30_000, 250);
  });

  it('empties a node put in maintenance here through PVE migrations', async () => {
    const names = await hostNames();
    const pve3 = [...names].find(([, name]) => name === 'pve3')![0];
    // What runs on pve3 in PVE now (the template never runs, and is not in the inventory).
    const there = [...(await truth())].filter(([guest, node]) => node === 'pve3' && guest !== 'tmpl').map(([guest]) => guest);
    expect(there.length).toBeGreaterThan(0);
    const t = Date.now();
    const entered = await api('POST', `/hosts/${pve3}/maintenance`, {});
    expect(entered.status).toBeLessThan(300);
    await waitFor(async () => (await get(`/hosts/${pve3}`)).state === 'maintenance', 120_000, 250);
    figures.maintenance = `pve3: ${there.length} guest(s) out in ${secondsSince(t)}`;
    const after = await truth();
    for (const guest of there) expect({ guest, node: after.get(guest) }).not.toEqual({ guest, node: 'pve3' });
    const out = (await migrations()).filter((m) => m.sourceHostId === pve3);
    expect(out.length).toBeGreaterThanOrEqual(there.length);
    for (const m of out.filter((x) => x.state !== 'cancelled')) expect(m).toMatchObject({ state: 'succeeded', driver: 'proxmox' });
    await waitFor(
      async () => JSON.stringify([...(await recorded())].sort()) === JSON.stringify([...after].filter(([g]) => g !== 'tmpl').sort()),
      20_000,
      250,
    );
    expect((await api('DELETE', `/hosts/${pve3}/maintenance`)).status).toBeLessThan(300);
  });

  it('says PVE balances a cluster whose guests are all HA-managed while its CRS rebalances them, and moves nothing there', async () => {
    const haOnly = await startPveSimulator({
      ...scenario,
      nodes: [node('pve1'), node('pve2')],
      guests: [
        { vmid: 100, name: 'a', node: 'pve1', cores: 2, memoryMib: 2 * GIB, load: busy(0.9), ha: { state: 'started' } },
        { vmid: 101, name: 'b', node: 'pve1', cores: 2, memoryMib: 2 * GIB, load: busy(0.9), ha: { state: 'started' } },
        { vmid: 200, name: 'ct', node: 'pve2', type: 'lxc', cores: 1, memoryMib: GIB },
      ],
      haRules: [],
      crs: { ha: 'static', 'ha-auto-rebalance': 1 },
    });
    try {
      const other = (await api('POST', '/clusters', { name: 'pve-ha-only' })).body.id;
      const put = await api('PUT', `/clusters/${other}/connector`, {
        kind: 'proxmox',
        settings: { endpoints: haOnly.urls, caCertificate: haOnly.ca.toString('utf8') },
        credentials: { tokenId: TOKEN_ID, secret: SECRET },
      });
      expect(put.status).toBe(200);
      const connector = await waitFor(
        async () => {
          const c = await connectorOf(other);
          // The platform's view is told as soon as a sync found it; the state once that sync is over.
          return c.balancedBy && c.state !== 'unknown' ? c : null;
        },
        30_000,
        250,
      );
      expect(connector).toMatchObject({ state: 'ok' });
      expect(connector.balancedBy).toMatch(/CRS rebalances the HA-managed guests.*every guest of the cluster is HA-managed/);
      expect((await api('PUT', `/clusters/${other}/policy`, { automationLevel: 'fully-automated' })).status).toBe(200);
      const pass = await api('POST', `/clusters/${other}/passes`);
      expect(pass.body).toMatchObject({ status: 'skipped', movesRecommended: 0 });
      expect(pass.body.notes).toMatch(/CRS rebalances.*two balancers would fight/);
      expect((await haOnly.state()).tasks).toHaveLength(0);
      expect((await api('DELETE', `/clusters/${other}/connector`)).status).toBe(204);
    } finally {
      await haOnly.stop();
    }
  });

  it('fails over to the next endpoint when the first stops answering, and stays ok', async () => {
    await sim.control('POST', '/_sim/listeners/pve1/stop');
    const t = Date.now();
    // Several syncs after the stop, each answered by another node, and the connector never degraded.
    await waitFor(async () => ((await connectorOf()).lastSyncAt ?? 0) > t + 3000, 30_000, 250);
    figures.failover = secondsSince(t);
    expect(await connectorOf()).toMatchObject({ state: 'ok', lastError: null });
    const events = (await get(`/events?clusterId=${clusterId}&type=connector.degraded&from=${t}&limit=50`)).items;
    expect(events).toHaveLength(0);
    await sim.control('POST', '/_sim/listeners/pve1/start');
  });

  it('goes degraded when no endpoint answers (passes skipped, nothing deleted) and ok again once one does', async () => {
    const inventory = await recorded();
    const t = Date.now();
    for (const n of ['pve1', 'pve2', 'pve3']) await sim.control('POST', `/_sim/listeners/${n}/stop`);
    const degraded = await waitFor(
      async () => {
        const c = await connectorOf();
        return c.state === 'degraded' ? c : null;
      },
      30_000,
      250,
    );
    figures.degradedAfter = secondsSince(t);
    expect(degraded.lastError).toMatch(/no Proxmox VE endpoint answered.*127\.0\.0\.1:\d+: connection refused/);
    const pass = await api('POST', `/clusters/${clusterId}/passes`);
    expect(pass.body.status).toBe('skipped');
    expect(await recorded()).toEqual(inventory);
    const back = Date.now();
    for (const n of ['pve1', 'pve2', 'pve3']) await sim.control('POST', `/_sim/listeners/${n}/start`);
    await waitFor(async () => (await connectorOf()).state === 'ok', 60_000, 250);
    figures.recoveredAfter = secondsSince(back);
  });

  it('says the API token was refused, never what its secret is, and syncs nothing', async () => {
    const other = (await api('POST', '/clusters', { name: 'pve-wrong' })).body.id;
    const wrong = '0badc0de-0000-4000-8000-5ecre7000000';
    const put = await api('PUT', `/clusters/${other}/connector`, {
      kind: 'proxmox',
      settings: settings(),
      credentials: { tokenId: TOKEN_ID, secret: wrong },
    });
    expect(put.status).toBe(200);
    const degraded = await waitFor(
      async () => {
        const c = await connectorOf(other);
        return c.state === 'degraded' ? c : null;
      },
      30_000,
      250,
    );
    expect(degraded.lastError).toMatch(/the API token was refused/);
    expect(JSON.stringify(degraded)).not.toContain(wrong);
    expect(app.stderr()).not.toContain(wrong);
    expect(app.stderr()).not.toContain(SECRET);
    expect((await get(`/vms?clusterId=${other}`)).total).toBe(0);

    // A token PVE accepts but without VM.Migrate: the missing privilege is named.
    const audit = await api('PUT', `/clusters/${other}/connector`, {
      kind: 'proxmox',
      settings: settings(),
      credentials: { tokenId: AUDITOR_ID, secret: AUDITOR_SECRET },
    });
    expect(audit.status).toBe(200);
    await waitFor(
      async () => /lacks the privilege VM\.Migrate on \/vms\/\d+/.test((await connectorOf(other)).lastError ?? ''),
      30_000,
      250,
    );
    expect((await connectorOf(other)).state).toBe('degraded');
    expect(app.stderr()).not.toContain(AUDITOR_SECRET);
    expect((await api('DELETE', `/clusters/${other}/connector`)).status).toBe(204);
  });
});
