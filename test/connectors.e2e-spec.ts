// The connector framework end to end: the real service in a child process reads REAL libvirt hosts
// (test/fixtures/libvirt-hosts.sh: libvirtd in network namespaces on this machine, TCG guests), no
// mocks. Configure a cluster's connector, see its hosts, VMs and samples appear, stop one libvirtd and
// see the cluster go degraded (passes skipped, nothing deleted), start it and see it recover.
// Needs root; `libvirt-hosts.sh install` adds the Debian packages when they are missing.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, CallResult, ChildApp, connectorAppEnv, killApp, secondsSince, startApp } from './helpers/child-app';
import { waitFor } from './helpers/wait';

jest.setTimeout(240_000);

const run = promisify(execFile);
const FIXTURE = join(__dirname, 'fixtures', 'libvirt-hosts.sh');
const fixture = (args: string[], env: Record<string, string> = {}) =>
  run('bash', [FIXTURE, ...args], { maxBuffer: 1 << 20, env: { ...process.env, ...env } });

// Sent as the connector's password: it must come back in no answer and appear in no log line.
const SECRET = `pw-${Math.random().toString(36).slice(2)}-never-shown`;

interface Point {
  timestamp: number;
  cpuMhz: number;
  memoryConsumedMib: number;
}

describe('connectors on real libvirt hosts', () => {
  const state = mkdtempSync(join(tmpdir(), 'drs-connectors-e2e-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-connectors-db-'));
  let hosts: { name: string; address: string; uri: string }[] = [];
  let app: ChildApp;
  let log = '';
  const answers: string[] = [];
  let clusterId = '';
  let bootedAt = 0;
  const figures: Record<string, string> = {};
  const startedAt = Date.now();

  async function api(method: string, path: string, body?: unknown): Promise<CallResult> {
    const answer = await call(app, method, `/api/v1${path}`, body);
    answers.push(answer.text);
    return answer;
  }
  const get = async (path: string) => (await api('GET', path)).body;

  beforeAll(async () => {
    let t = Date.now();
    await fixture(['install']);
    const up = await fixture(['up', state, '2']);
    hosts = up.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [name, address, uri] = line.split(' ');
        return { name, address, uri };
      });
    // busy (on h0) dirties memory in a loop, so it burns CPU; calm (on h1) only sleeps.
    await fixture(['guest', state, '0', 'busy', '128']);
    await fixture(['guest', state, '1', 'calm', '128'], { GUEST_DIRTY_MB: '0' });
    figures.hostsAndGuests = secondsSince(t);
    t = Date.now();
    app = await startApp(connectorAppEnv(join(dataDir, 'drs.sqlite'), 2));
    // Everything the service writes from now on: the credentials are sent after this point.
    app.proc.stdout!.on('data', (chunk) => (log += chunk));
    app.proc.stderr!.on('data', (chunk) => (log += chunk));
    await fixture(['wait-guest', state, 'busy', '150']);
    // An idle guest still burns CPU while its kernel boots under emulation: compare once both run their loop.
    await fixture(['wait-guest', state, 'calm', '150']);
    bootedAt = Date.now();
    figures.serviceAndBoot = secondsSince(t);
    const cluster = await api('POST', '/clusters', { name: 'kvm' });
    expect(cluster.status).toBe(201);
    clusterId = cluster.body.id;
  });

  afterAll(async () => {
    if (app) await killApp(app);
    await fixture(['down', state]).catch((error: Error) => console.error(error.message));
    rmSync(state, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
    figures.total = secondsSince(startedAt);
    console.log(`connectors e2e figures: ${JSON.stringify(figures)}`);
  });

  const settings = () => ({ hosts: hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })) });

  it('refuses a configuration it could not use with a 422 naming the field, and stores nothing', async () => {
    const unknownKind = await api('PUT', `/clusters/${clusterId}/connector`, { kind: 'hyperv', settings: settings() });
    expect(unknownKind.status).toBe(422);
    expect(unknownKind.type).toContain('application/problem+json');
    expect(unknownKind.body.errors.map((e: { field: string }) => e.field)).toEqual(['kind']);

    const badUri = { hosts: [settings().hosts[0], { name: 'h9', uri: 'http://10.0.0.9/' }] };
    const refused = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'libvirt',
      settings: badUri,
      credentials: { username: 'drs', password: SECRET },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(['settings.hosts.1.uri']);

    const noSettings = await api('PUT', `/clusters/${clusterId}/connector`, { kind: 'libvirt' });
    expect(noSettings.status).toBe(400);
    expect(noSettings.body.errors.map((e: { field: string }) => e.field)).toContain('settings');

    const badCredentials = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'libvirt',
      settings: settings(),
      credentials: { password: SECRET },
    });
    expect(badCredentials.status).toBe(422);
    expect(badCredentials.body.errors.map((e: { field: string }) => e.field)).toEqual(['credentials.username']);

    expect((await api('GET', `/clusters/${clusterId}/connector`)).status).toBe(404);
    expect((await get(`/hosts?clusterId=${clusterId}`)).total).toBe(0);
  });

  it('discovers the hosts and guests once configured: each VM on the host that runs it', async () => {
    const t = Date.now();
    const put = await api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'libvirt',
      settings: settings(),
      credentials: { username: 'drs', password: SECRET },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ clusterId, kind: 'libvirt', hasCredentials: true, settings: settings() });
    expect(put.body).not.toHaveProperty('credentials');

    const vms = await waitFor(
      async () => {
        const page = await get(`/vms?clusterId=${clusterId}`);
        return page.total === 2 ? page.items : null;
      },
      30_000,
      250,
    );
    figures.firstSync = secondsSince(t);
    const hostPage = await get(`/hosts?clusterId=${clusterId}`);
    const memTotalKib = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(hostPage.items.map((h: { name: string }) => h.name).sort()).toEqual(['h0', 'h1']);
    for (const host of hostPage.items) {
      // Every libvirtd here runs on this machine: its capacity is this machine's.
      expect(host.cpuCores).toBe(cpus().length);
      expect(host.memoryMib).toBe(Math.floor(memTotalKib / 1024));
      expect(host.cpuMhz).toBeGreaterThanOrEqual(host.cpuCores);
      expect(host.state).toBe('connected');
    }
    const hostId = new Map(hostPage.items.map((h: { name: string; id: string }) => [h.name, h.id]));
    const byName = new Map(vms.map((vm: { name: string }) => [vm.name, vm]));
    expect(byName.get('busy')).toMatchObject({ hostId: hostId.get('h0'), vcpus: 1, memoryMib: 128, powerState: 'poweredOn' });
    expect(byName.get('calm')).toMatchObject({ hostId: hostId.get('h1'), memoryMib: 128, powerState: 'poweredOn' });

    const connector = await waitFor(
      async () => {
        const body = await get(`/clusters/${clusterId}/connector`);
        return body.state === 'ok' && body.lastSyncAt && body.lastCollectAt ? body : null;
      },
      20_000,
      250,
    );
    expect(connector).toMatchObject({ kind: 'libvirt', hasCredentials: true, lastError: null });
    expect(connector).not.toHaveProperty('credentials');
    const configured = await get(`/events?clusterId=${clusterId}&type=connector.configured`);
    expect(configured.total).toBe(1);
    expect(configured.items[0].actor).toEqual({ type: 'local' });
  });

  it('collects samples: the guest that burns CPU shows more than the idle one', async () => {
    const vms = (await get(`/vms?clusterId=${clusterId}`)).items as { id: string; name: string }[];
    const id = (name: string) => vms.find((vm) => vm.name === name)!.id;
    const t = Date.now();
    const found = await waitFor(
      async () => {
        const booted = (points: Point[]) => points.filter((p) => p.timestamp >= bootedAt);
        const busy = booted((await get(`/vms/${id('busy')}/samples`)).points);
        const calm = booted((await get(`/vms/${id('calm')}/samples`)).points);
        return busy.length >= 2 && calm.length >= 2 ? { busy, calm } : null;
      },
      30_000,
      500,
    );
    const points = found!;
    figures.samples = secondsSince(t);
    const mean = (list: Point[]) => list.reduce((sum, p) => sum + p.cpuMhz, 0) / list.length;
    expect(mean(points.busy)).toBeGreaterThan(100);
    expect(mean(points.busy)).toBeGreaterThan(3 * Math.max(1, mean(points.calm)));
    figures.cpuMhz = `busy ${mean(points.busy).toFixed(0)}, calm ${mean(points.calm).toFixed(0)}`;
    for (const p of points.busy) expect(p.memoryConsumedMib).toBeLessThanOrEqual(128);
  });

  it('goes degraded when a libvirtd stops, naming the host: passes skipped, nothing deleted; ok again once it answers', async () => {
    const before = { hosts: await get(`/hosts?clusterId=${clusterId}`), vms: await get(`/vms?clusterId=${clusterId}`) };
    let t = Date.now();
    await fixture(['stop-daemon', state, '1']);
    const degraded = await waitFor(
      async () => {
        const body = await get(`/clusters/${clusterId}/connector`);
        return body.state === 'degraded' ? body : null;
      },
      30_000,
      250,
    );
    figures.degradedAfter = secondsSince(t);
    expect(degraded.lastError).toMatch(/^h1: /);
    expect(degraded.lastError).not.toMatch(/h0/);
    const events = await get(`/events?clusterId=${clusterId}&type=connector.degraded`);
    expect(events.total).toBe(1);
    expect(events.items[0].message).toContain('h1');

    const pass = await api('POST', `/clusters/${clusterId}/passes`);
    expect(pass.status).toBe(201);
    expect(pass.body.status).toBe('skipped');
    expect(pass.body.notes).toMatch(/connector is degraded.*h1/);
    const passes = await get(`/clusters/${clusterId}/passes`);
    expect(passes.items[0]).toMatchObject({ id: pass.body.id, status: 'skipped' });

    // Several syncs later the host and its guest are still there, and still one event.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await get(`/clusters/${clusterId}/connector`)).state).toBe('degraded');
    const after = { hosts: await get(`/hosts?clusterId=${clusterId}`), vms: await get(`/vms?clusterId=${clusterId}`) };
    expect(after.hosts.items.map((h: { id: string }) => h.id).sort()).toEqual(before.hosts.items.map((h: { id: string }) => h.id).sort());
    expect(after.vms.items.map((v: { id: string; hostId: string }) => `${v.id}@${v.hostId}`).sort()).toEqual(
      before.vms.items.map((v: { id: string; hostId: string }) => `${v.id}@${v.hostId}`).sort(),
    );
    expect((await get(`/events?clusterId=${clusterId}&type=connector.degraded`)).total).toBe(1);

    t = Date.now();
    await fixture(['start-daemon', state, '1']);
    await waitFor(async () => (await get(`/clusters/${clusterId}/connector`)).state === 'ok', 30_000, 250);
    figures.recoveredAfter = secondsSince(t);
    expect((await get(`/clusters/${clusterId}/connector`)).lastError).toBeNull();
    expect((await get(`/events?clusterId=${clusterId}&type=connector.recovered`)).total).toBe(1);
    const next = await api('POST', `/clusters/${clusterId}/passes`);
    expect(next.body.status).toBe('completed');
  });

  it('says which host cannot be reached when a URI leads nowhere, and goes with its cluster when that is deleted', async () => {
    const other = (await api('POST', '/clusters', { name: 'nowhere' })).body.id;
    // Nothing listens on port 1: libvirt's client is refused at once.
    const put = await api('PUT', `/clusters/${other}/connector`, {
      kind: 'libvirt',
      settings: { hosts: [{ name: 'ghost', uri: 'qemu+tcp://127.0.0.1:1/system' }] },
    });
    expect(put.status).toBe(200);
    expect(put.body.hasCredentials).toBe(false);
    const degraded = await waitFor(
      async () => {
        const body = await get(`/clusters/${other}/connector`);
        return body.state === 'degraded' ? body : null;
      },
      20_000,
      250,
    );
    expect(degraded.lastError).toMatch(/^ghost: .*(refused|connect)/i);
    expect((await get(`/hosts?clusterId=${other}`)).total).toBe(0);

    expect((await api('DELETE', `/clusters/${other}`)).status).toBe(204);
    expect((await api('GET', `/clusters/${other}/connector`)).status).toBe(404);
    // The first cluster's connector runs on, untouched.
    expect((await get(`/clusters/${clusterId}/connector`)).state).toBe('ok');
  });

  it('stops on DELETE and keeps the inventory; the credentials were in no answer and no log line', async () => {
    const removed = await api('DELETE', `/clusters/${clusterId}/connector`);
    expect(removed.status).toBe(204);
    expect((await api('GET', `/clusters/${clusterId}/connector`)).status).toBe(404);
    expect((await get(`/events?clusterId=${clusterId}&type=connector.removed`)).total).toBe(1);
    expect((await get(`/vms?clusterId=${clusterId}`)).total).toBe(2);
    // No loop left: a guest defined now is never synced.
    await fixture(['guest', state, '0', 'late', '64'], { GUEST_START: '0' });
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await get(`/vms?clusterId=${clusterId}`)).total).toBe(2);

    // The log is real and detailed (the transitions are in it), and the password is nowhere.
    expect(log).toContain('connector degraded');
    expect(log).toContain('connector recovered');
    expect(log).not.toContain(SECRET);
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.join('\n')).not.toContain(SECRET);
    const all = await get(`/events?clusterId=${clusterId}&limit=500`);
    expect(JSON.stringify(all)).not.toContain(SECRET);
  });
});
