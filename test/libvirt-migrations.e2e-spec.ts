// The service moving guests between REAL libvirt hosts (test/fixtures/libvirt-hosts.sh: libvirtd in
// network namespaces on this machine, TCG guests that burn CPU and dirty memory), no mocks: a fully
// automated pass balances a skewed cluster by real live migrations, maintenance empties a host for
// real, and a service killed (SIGKILL) during a real migration adopts it after its restart instead of
// starting another. Each time, `virsh list` on every host is compared with the service's inventory.
// Needs root; `libvirt-hosts.sh install` adds the Debian packages when they are missing.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, ChildApp, connectorAppEnv, killApp, query, secondsSince, startApp } from './helpers/child-app';
import { waitFor } from './helpers/wait';

jest.setTimeout(300_000);

const run = promisify(execFile);
const FIXTURE = join(__dirname, 'fixtures', 'libvirt-hosts.sh');
const fixture = (args: string[], env: Record<string, string> = {}) =>
  run('bash', [FIXTURE, ...args], { maxBuffer: 1 << 20, env: { ...process.env, ...env } });

interface TestHost {
  name: string;
  address: string;
  uri: string;
}
interface Vm {
  id: string;
  name: string;
  hostId: string;
}
interface Migration {
  id: string;
  vmId: string;
  state: string;
  driver: string;
  attempts: number;
  sourceHostId: string;
  targetHostId: string;
  downtimeMs: number | null;
  durationSeconds: number | null;
  error: string | null;
  progress: { percent: number };
}

/** The running guests of a host, read with virsh itself (not the connector's parsers). */
async function runningOn(uri: string): Promise<string[]> {
  const { stdout } = await run('virsh', ['-q', '-c', uri, 'list', '--state-running', '--name'], { env: { ...process.env, LC_ALL: 'C' } });
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();
}

/** The pids of the `virsh migrate` clients moving a domain, wherever they were started from. */
async function migrateClients(domain: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', `virsh .*migrate .*--domain ${domain} `]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

const GUESTS = ['b1', 'b2', 'b3', 'calm'];

describe('live migrations on real libvirt hosts', () => {
  const state = mkdtempSync(join(tmpdir(), 'drs-libvirt-migrations-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-libvirt-migrations-db-'));
  const databasePath = join(dataDir, 'drs.sqlite');
  let hosts: TestHost[] = [];
  let app: ChildApp;
  let clusterId = '';
  const figures: Record<string, string> = {};
  const startedAt = Date.now();
  const env = connectorAppEnv(databasePath, 2);

  const api = (method: string, path: string, body?: unknown) => call(app, method, `/api/v1${path}`, body);
  const get = async (path: string) => (await api('GET', path)).body;

  async function start(): Promise<void> {
    app = await startApp(env);
  }

  const hostNames = async () => {
    const page = await get(`/hosts?clusterId=${clusterId}`);
    return new Map<string, string>(page.items.map((h: { id: string; name: string }) => [h.id, h.name]));
  };
  const vms = async (): Promise<Vm[]> => (await get(`/vms?clusterId=${clusterId}`)).items;
  const migrations = async (): Promise<Migration[]> => (await get(`/migrations?clusterId=${clusterId}&limit=500`)).items;

  /** Each guest runs on exactly one host, and it is the host the service records for it. */
  async function expectVirshAgrees(): Promise<Map<string, string>> {
    const names = await hostNames();
    const recorded = new Map((await vms()).map((vm) => [vm.name, names.get(vm.hostId)!]));
    const actual = new Map<string, string[]>();
    for (const host of hosts) for (const guest of await runningOn(host.uri)) actual.set(guest, [...(actual.get(guest) ?? []), host.name]);
    for (const guest of GUESTS) {
      expect({ guest, runsOn: actual.get(guest) }).toEqual({ guest, runsOn: [recorded.get(guest)] });
    }
    return recorded;
  }

  const settled = (list: Migration[]) => list.every((m) => !['queued', 'running'].includes(m.state));

  beforeAll(async () => {
    let t = Date.now();
    await fixture(['install']);
    const up = await fixture(['up', state, '3']);
    hosts = up.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [name, address, uri] = line.split(' ');
        return { name, address, uri };
      });
    // Skewed: three guests that burn CPU (rewriting 8 MiB in a loop) on h0, an idle one on h1, nothing on h2.
    for (const name of ['b1', 'b2', 'b3']) await fixture(['guest', state, '0', name, '128'], { GUEST_DIRTY_MB: '8' });
    await fixture(['guest', state, '1', 'calm', '128'], { GUEST_DIRTY_MB: '0' });
    figures.hostsAndGuests = secondsSince(t);
    t = Date.now();
    await start();
    for (const name of GUESTS) await fixture(['wait-guest', state, name, '300']);
    figures.serviceAndBoot = secondsSince(t);
    clusterId = (await api('POST', '/clusters', { name: 'kvm' })).body.id;
  });

  afterAll(async () => {
    if (app) await killApp(app);
    await fixture(['down', state]).catch((error: Error) => console.error(error.message));
    rmSync(state, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
    figures.total = secondsSince(startedAt);
    console.log(`libvirt migrations e2e figures: ${JSON.stringify(figures)}`);
  });

  const connectorSettings = (extra: Record<string, unknown> = {}) => ({
    hosts: hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })),
    ...extra,
  });

  it('a fully automated pass balances the skewed cluster by real live migrations, and virsh agrees with the inventory', async () => {
    let t = Date.now();
    expect((await api('PUT', `/clusters/${clusterId}/connector`, { kind: 'libvirt', settings: connectorSettings() })).status).toBe(200);
    // Discovered, and every busy guest has a few samples since it booted.
    await waitFor(
      async () => {
        const list = await vms();
        if (list.length !== GUESTS.length) return false;
        for (const vm of list.filter((v) => v.name !== 'calm')) {
          if ((await get(`/vms/${vm.id}/samples`)).points.length < 3) return false;
        }
        return true;
      },
      60_000,
      500,
    );
    figures.discoveredAndSampled = secondsSince(t);
    const before = await get(`/clusters/${clusterId}/balance`);
    expect(await expectVirshAgrees()).toEqual(new Map([...['b1', 'b2', 'b3'].map((b) => [b, 'h0'] as const), ['calm', 'h1']]));

    t = Date.now();
    expect((await api('PUT', `/clusters/${clusterId}/policy`, { automationLevel: 'fully-automated' })).status).toBe(200);
    const pass = await api('POST', `/clusters/${clusterId}/passes`);
    expect(pass.status).toBe(201);
    expect(pass.body.status).toBe('completed');
    const done = (await waitFor(
      async () => {
        const list = await migrations();
        return list.length > 0 && settled(list) ? list : null;
      },
      180_000,
      500,
    ))!;
    figures.pass = `${secondsSince(t)}, ${done.length} migrations`;
    for (const m of done) {
      expect(m).toMatchObject({ state: 'succeeded', driver: 'libvirt', attempts: 1, error: null });
      // As libvirt reported them for the completed job.
      expect(m.downtimeMs).toBeGreaterThan(0);
      expect(m.durationSeconds).toBeGreaterThan(0);
    }
    figures.migrations = done.map((m) => `${m.durationSeconds} s / ${m.downtimeMs} ms`).join(', ');
    const names = await hostNames();
    expect(done.every((m) => names.get(m.sourceHostId) === 'h0')).toBe(true);

    const recorded = await expectVirshAgrees();
    expect([...recorded.values()].filter((h) => h === 'h0').length).toBeLessThan(3);
    const after = await get(`/clusters/${clusterId}/balance`);
    figures.imbalance = `${before.imbalance} -> ${after.imbalance}`;
    expect(after.imbalance).toBeLessThan(before.imbalance);
    // The next syncs find every guest where the engine put it: nothing moves back in the inventory.
    const syncedAt = (await get(`/clusters/${clusterId}/connector`)).lastSyncAt;
    await waitFor(async () => (await get(`/clusters/${clusterId}/connector`)).lastSyncAt > syncedAt, 20_000, 250);
    expect(await expectVirshAgrees()).toEqual(recorded);
  });

  it('maintenance on a host empties it for real', async () => {
    const names = await hostNames();
    const byName = new Map([...names].map(([id, name]) => [name, id]));
    // The host with the most guests now.
    const counts = new Map<string, number>();
    for (const vm of await vms()) counts.set(names.get(vm.hostId)!, (counts.get(names.get(vm.hostId)!) ?? 0) + 1);
    const [busiest] = [...counts].sort((a, b) => b[1] - a[1])[0];
    const guestsThere = await runningOn(hosts.find((h) => h.name === busiest)!.uri);
    expect(guestsThere.length).toBeGreaterThan(0);

    const t = Date.now();
    const entered = await api('POST', `/hosts/${byName.get(busiest)}/maintenance`, {});
    expect(entered.status).toBeLessThan(300);
    await waitFor(async () => (await get(`/hosts/${byName.get(busiest)}`)).state === 'maintenance', 180_000, 500);
    figures.maintenance = `${busiest}: ${guestsThere.length} guests out in ${secondsSince(t)}`;
    expect(await runningOn(hosts.find((h) => h.name === busiest)!.uri)).toEqual([]);
    const recorded = await expectVirshAgrees();
    expect([...recorded.values()]).not.toContain(busiest);
    const evacuations = (await migrations()).filter((m) => names.get(m.sourceHostId) === busiest && m.state === 'succeeded');
    expect(evacuations.length).toBeGreaterThanOrEqual(guestsThere.length);
    expect((await api('DELETE', `/hosts/${byName.get(busiest)}/maintenance`)).status).toBeLessThan(300);
  });

  it('a service killed during a real migration adopts it after the restart: one migration, the guest on one host, the database agreeing', async () => {
    // 2 MiB/s for a guest that rewrites 8 MiB in a loop: the migration cannot finish until the cap is lifted.
    const put = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'libvirt',
      settings: connectorSettings({ migrationBandwidthMibPerSecond: 2 }),
    });
    expect(put.status).toBe(200);
    const names = await hostNames();
    const byName = new Map([...names].map(([id, name]) => [name, id]));
    const guest = (await vms()).find((vm) => vm.name === 'b1')!;
    const from = names.get(guest.hostId)!;
    const to = ['h0', 'h1', 'h2'].find((h) => h !== from)!;
    const source = hosts.find((h) => h.name === from)!;

    const queued = await api('POST', '/migrations', { vmId: guest.id, targetHostId: byName.get(to) });
    expect(queued.status).toBe(201);
    const migrationId: string = queued.body.id;
    // Running, with progress reported from libvirt's job: the migration is under way on the source.
    await waitFor(
      async () => {
        const m: Migration = await get(`/migrations/${migrationId}`);
        return m.state === 'running' && m.progress.percent > 0;
      },
      60_000,
      250,
    );
    const [{ handle }] = await query<{ handle: string }>(databasePath, 'SELECT handle FROM live_migrations WHERE id = ?', [migrationId]);
    const client = JSON.parse(handle) as { kind: string; pid: number; domainName: string };
    expect(client).toMatchObject({ kind: 'libvirt', domainName: 'b1' });
    await killApp(app);
    const t = Date.now();
    // The service is gone; the virsh client it started and libvirt's job are not.
    expect(await migrateClients('b1')).toEqual([client.pid]);
    const { stdout: job } = await run('virsh', ['-c', source.uri, 'domjobinfo', 'b1'], { env: { ...process.env, LC_ALL: 'C' } });
    expect(job).toMatch(/Job type:\s+Unbounded/);

    // Serving means the restart has settled what the crash left running: the same client, still followed.
    await start();
    expect(await get(`/migrations/${migrationId}`)).toMatchObject({ state: 'running', attempts: 1 });
    expect(await migrateClients('b1')).toEqual([client.pid]);
    const progressed = (await get(`/migrations/${migrationId}`)).updatedAt;
    await waitFor(async () => (await get(`/migrations/${migrationId}`)).updatedAt > progressed, 30_000, 250);
    // An operator lifts the cap on the platform: the adopted migration finishes.
    await run('virsh', ['-c', source.uri, 'migrate-setspeed', 'b1', '1000']);
    const ended = (await waitFor(
      async () => {
        const m: Migration = await get(`/migrations/${migrationId}`);
        return settled([m]) ? m : null;
      },
      120_000,
      250,
    ))!;
    figures.adopted = `ended ${ended.state} ${secondsSince(t)} after the kill`;
    // Adopted, not restarted: the attempt the killed service started is the only one.
    expect(ended).toMatchObject({ state: 'succeeded', attempts: 1, driver: 'libvirt' });
    expect((await migrations()).filter((m) => m.vmId === guest.id && m.state === 'running')).toEqual([]);
    expect(await migrateClients('b1')).toEqual([]);
    const recorded = await expectVirshAgrees();
    expect(recorded.get('b1')).toBe(to);
    expect(await runningOn(source.uri)).not.toContain('b1');
  });
});
