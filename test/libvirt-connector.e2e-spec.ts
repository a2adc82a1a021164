// The libvirt connector against REAL libvirt daemons running real QEMU guests (test/fixtures/libvirt-hosts.sh:
// three hosts in network namespaces on this machine, TCG guests, one of them dirtying memory), no mocks.
// Needs root; `libvirt-hosts.sh install` adds the Debian packages when they are missing.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConnectorError } from '../src/connectors/connector';
import { LibvirtConnector } from '../src/connectors/libvirt/libvirt-connector';
import type { LaunchHooks, MigrationHandle, MigrationJob, MigrationProgress } from '../src/live-migration/drivers/migration-driver';
import { ProcFs } from '../src/live-migration/drivers/process-identity';
import { Virsh } from '../src/connectors/libvirt/virsh';
import { waitFor } from './helpers/wait';
import { secondsSince } from './helpers/child-app';

jest.setTimeout(180_000);

const run = promisify(execFile);
const FIXTURE = join(__dirname, 'fixtures', 'libvirt-hosts.sh');
const fixture = (...args: string[]) => run('bash', [FIXTURE, ...args], { maxBuffer: 1 << 20 });

interface TestHost {
  name: string;
  address: string;
  uri: string;
}

/** `virsh list --all` on a host, read here without the connector's parsers: name → state words. */
async function listed(uri: string): Promise<Map<string, string>> {
  const { stdout } = await run('virsh', ['-q', '-c', uri, 'list', '--all'], { env: { ...process.env, LC_ALL: 'C' } });
  const domains = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*(?:\d+|-)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (match) domains.set(match[1], match[2]);
  }
  return domains;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('libvirt connector on real libvirt hosts', () => {
  const state = mkdtempSync(join(tmpdir(), 'drs-libvirt-e2e-'));
  const outputDir = join(state, 'migrations');
  let hosts: TestHost[] = [];
  let connector: LibvirtConnector;
  const figures: Record<string, string> = {};
  const startedAt = Date.now();

  const phase = (name: string, since: number) => (figures[name] = secondsSince(since));

  beforeAll(async () => {
    let t = Date.now();
    await fixture('install');
    phase('install', t);
    t = Date.now();
    const up = await fixture('up', state, '3');
    phase('up', t);
    t = Date.now();
    hosts = up.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [name, address, uri] = line.split(' ');
        return { name, address, uri };
      });
    // busy: dirties 32 MiB in a loop (CPU and dirty pages); calm: an idle guest; off1: defined, never started.
    await fixture('guest', state, '0', 'busy', '128');
    await run('bash', [FIXTURE, 'guest', state, '1', 'calm', '64'], { env: { ...process.env, GUEST_DIRTY_MB: '0' } });
    await run('bash', [FIXTURE, 'guest', state, '0', 'off1', '64'], { env: { ...process.env, GUEST_START: '0' } });
    phase('guests', t);
    t = Date.now();
    await fixture('wait-guest', state, 'busy', '150');
    phase('boot', t);
    figures.setup = secondsSince(startedAt);
    connector = new LibvirtConnector(
      hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })),
      { migration: { pollMs: 200, outputDir, abortGraceSeconds: 5 } },
    );
  });

  afterAll(async () => {
    await connector?.close();
    await fixture('down', state).catch((error: Error) => console.error(error.message));
    rmSync(state, { recursive: true, force: true });
    figures.total = secondsSince(startedAt);
    console.log(`libvirt e2e figures: ${JSON.stringify(figures)}`);
  });

  const job = (vm: string, from: string, to: string, migrationId: string): MigrationJob => ({
    migrationId,
    vm: { id: vm, name: vm, memoryMib: 128 },
    source: { id: from, name: from, migrationGbps: 1 },
    target: { id: to, name: to, migrationGbps: 1 },
    bandwidthMibPerSecond: () => 100,
  });
  const hooks = (onLaunched: (handle: MigrationHandle) => void, detach = new AbortController().signal): LaunchHooks => ({
    onLaunched: async (handle) => onLaunched(handle),
    detach,
  });

  // 4 MiB/s for a guest that dirties memory: it would take far longer than the tests wait.
  const slowDriver = (timeLimitSeconds = 3600) =>
    new LibvirtConnector(
      hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })),
      { migration: { bandwidthMibPerSecond: 4, pollMs: 200, outputDir, abortGraceSeconds: 5, timeLimitSeconds } },
    ).migrationDriver();

  it('discovers every host with the machine capacity and every guest on its host', async () => {
    const t0 = Date.now();
    const discovery = await connector.discover();
    figures.discover = `${Date.now() - t0} ms`;
    expect(discovery.unreachable).toEqual([]);
    // Each libvirtd runs on this machine: its nodeinfo is this machine's CPUs and memory.
    const memTotalKib = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(discovery.hosts).toHaveLength(3);
    for (const host of discovery.hosts) {
      expect(host.cpuCores).toBe(cpus().length);
      expect(host.memoryMib).toBe(Math.floor(memTotalKib / 1024));
      expect(host.cpuMhzPerCore).toBeGreaterThan(0);
    }
    expect(discovery.hosts.map((h) => h.name)).toEqual(['h0', 'h1', 'h2']);
    const uuid = execFileSync('virsh', ['-q', '-c', hosts[0].uri, 'domuuid', 'busy'], { encoding: 'utf8' }).trim();
    const byName = new Map(discovery.vms.map((vm) => [vm.name, vm]));
    expect(byName.get('busy')).toEqual({ externalId: uuid, name: 'busy', vcpus: 1, memoryMib: 128, power: 'running', host: 'h0' });
    expect(byName.get('calm')).toMatchObject({ host: 'h1', power: 'running', memoryMib: 64 });
    expect(byName.get('off1')).toMatchObject({ host: 'h0', power: 'stopped', memoryMib: 64 });
    expect(discovery.vms).toHaveLength(3);
  });

  it('collects CPU from CPU-time deltas (rising for the busy guest) and its dirty rate from libvirt', async () => {
    const t0 = Date.now();
    const first = await connector.collect();
    figures.collectFirst = `${Date.now() - t0} ms`;
    expect(first.unreachable).toEqual([]);
    await sleep(3000);
    const t1 = Date.now();
    const second = await connector.collect();
    figures.collect = `${Date.now() - t1} ms`;
    const busy = second.samples.find((s) => s.vmName === 'busy');
    expect(busy).toBeDefined();
    expect(busy!.hostName).toBe('h0');
    expect(busy!.cpuMhz).toBeGreaterThan(0);
    // one vCPU cannot use more than one host CPU
    const mhz = (await connector.discover()).hosts[0].cpuMhzPerCore;
    expect(busy!.cpuMhz).toBeLessThanOrEqual(mhz * 1.05);
    expect(busy!.memoryConsumedMib).toBeGreaterThan(0);
    expect(busy!.memoryConsumedMib).toBeLessThanOrEqual(128);
    expect(busy!.memoryActiveMib).toBeLessThanOrEqual(busy!.memoryConsumedMib);
    // The first collection asked libvirt to measure (1 s, in the background); the second reads it. The guest rewrites 32 MiB per pass.
    expect(busy!.memoryDirtyMibPerSecond).toBeGreaterThan(0);
    expect(second.samples.find((s) => s.vmName === 'off1')).toBeUndefined();
    figures.busySample = JSON.stringify(busy);
  });

  it('migrates a dirtying guest for real, handle first, progress on the way, the target running it after', async () => {
    // Capped at 80 MiB/s, as an operator caps a shared link: a few seconds of pre-copy rounds to watch (uncapped,
    // loopback copies the 128 MiB guest in well under a second, between two progress reads on a loaded machine).
    const driver = new LibvirtConnector(
      hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })),
      { migration: { bandwidthMibPerSecond: 80, pollMs: 200, outputDir, abortGraceSeconds: 5 } },
    ).migrationDriver();
    const events: string[] = [];
    let handle: MigrationHandle | null = null;
    const progress: MigrationProgress[] = [];
    const outcome = await driver.migrate(
      job('busy', 'h0', 'h1', 'm-ok'),
      new AbortController().signal,
      (p) => {
        events.push('progress');
        progress.push(p);
      },
      hooks((h) => {
        events.push('launched');
        handle = h;
      }),
    );
    expect(outcome).toMatchObject({ status: 'succeeded' });
    if (outcome.status !== 'succeeded') return;
    figures.migration = `${outcome.durationSeconds} s, downtime ${outcome.downtimeMs} ms, ${outcome.rounds} rounds, ${outcome.copiedMib.toFixed(1)} MiB`;
    expect(outcome.downtimeMs).toBeGreaterThan(0);
    expect(outcome.rounds).toBeGreaterThanOrEqual(1);
    expect(events[0]).toBe('launched');
    expect(handle).toMatchObject({ kind: 'libvirt', domainName: 'busy', sourceUri: hosts[0].uri, targetUri: hosts[1].uri });
    expect(progress.filter((p) => p.percent < 100).length).toBeGreaterThanOrEqual(1);
    expect(progress[progress.length - 1].percent).toBe(100);
    expect((await listed(hosts[1].uri)).get('busy')).toBe('running');
    expect((await listed(hosts[0].uri)).has('busy')).toBe(false);
    expect(await connector.locate('busy')).toBe('h1');
  });

  it('cancelling mid-migration aborts the job: the guest stays on its source and nothing is left on the target', async () => {
    const slow = slowDriver();
    const cancel = new AbortController();
    const t0 = Date.now();
    let cancelledAt = 0;
    const outcome = await slow.migrate(job('busy', 'h1', 'h0', 'm-cancel'), cancel.signal, () => {
      if (!cancelledAt) {
        cancelledAt = Date.now();
        cancel.abort();
      }
    });
    figures.cancel = `${Date.now() - cancelledAt} ms from cancel to outcome (${cancelledAt - t0} ms running)`;
    expect(outcome).toEqual({ status: 'cancelled' });
    expect((await listed(hosts[1].uri)).get('busy')).toBe('running');
    expect((await listed(hosts[0].uri)).has('busy')).toBe(false);
  });

  it('a migration past its time limit is aborted and fails as transient; the guest stays on its source', async () => {
    const t0 = Date.now();
    const outcome = await slowDriver(3).migrate(job('busy', 'h1', 'h0', 'm-limit'), new AbortController().signal, () => undefined);
    figures.timeLimit = `${Date.now() - t0} ms for a 3 s limit`;
    expect(outcome).toMatchObject({ status: 'failed', transient: true, error: expect.stringContaining('did not finish within 3 s') });
    expect((await listed(hosts[1].uri)).get('busy')).toBe('running');
    expect((await listed(hosts[0].uri)).has('busy')).toBe(false);
  });

  it('a client killed mid-migration is adopted through its handle and cancelled; reconcile says source, no leftover', async () => {
    const slow = slowDriver();
    const detach = new AbortController();
    let handle: MigrationHandle | null = null;
    const migrating = slow.migrate(
      job('busy', 'h1', 'h0', 'm-crash'),
      new AbortController().signal,
      () => detach.abort(),
      hooks((h) => (handle = h), detach.signal),
    );
    // The service "shuts down": the driver lets go, the client runs on.
    expect(await migrating).toEqual({ status: 'detached' });
    expect(handle).not.toBeNull();
    const procFs = new ProcFs();
    expect(procFs.isRunning(handle!)).toBe(true);
    // A fresh driver (a restarted service) finds the client again from the job alone.
    expect(await slow.findLaunched(job('busy', 'h1', 'h0', 'm-crash'))).toMatchObject({
      kind: 'libvirt',
      pid: handle!.pid,
      domainName: 'busy',
    });
    process.kill(-handle!.pgid, 'SIGKILL');
    await waitFor(async () => !procFs.isRunning(handle!), 5000);
    const cancel = new AbortController();
    const seen: MigrationProgress[] = [];
    const adopted = slow.adopt(
      job('busy', 'h1', 'h0', 'm-crash'),
      handle!,
      cancel.signal,
      (p) => {
        seen.push(p);
        cancel.abort();
      },
      { detach: new AbortController().signal, deadlineMs: null },
    );
    const ended = await adopted;
    // libvirt kept the job running on the source after its client died: adopt followed it, then aborted it.
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(ended.status).toBe('cancelled');
    expect(await slow.reconcile(job('busy', 'h1', 'h0', 'm-crash'))).toBe('source');
    expect((await listed(hosts[1].uri)).get('busy')).toBe('running');
    expect((await listed(hosts[0].uri)).has('busy')).toBe(false);
  });

  it('a host whose libvirtd stopped is unreachable, named; the others are still discovered', async () => {
    await fixture('stop-daemon', state, '2');
    const discovery = await connector.discover();
    expect(discovery.unreachable).toEqual([{ host: 'h2', error: expect.stringMatching(/^h2: .*Connection refused/) }]);
    expect(discovery.hosts.map((h) => h.name)).toEqual(['h0', 'h1']);
    expect(discovery.vms.map((vm) => vm.name).sort()).toEqual(['busy', 'calm', 'off1']);
    // A guest that runs somewhere is found there; one that runs nowhere could be on the silent host.
    expect(await connector.locate('busy')).toBe('h1');
    const error = await connector.locate('off1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ host: 'h2', reason: 'unreachable' });
  });

  it('a server that never answers is a timeout at the call time limit', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const virsh = new Virsh('mute', `qemu+tcp://127.0.0.1:${port}/system`, { timeoutMs: 1500 });
      const t0 = Date.now();
      await expect(virsh.run(['nodeinfo'])).rejects.toMatchObject({ host: 'mute', reason: 'timeout' });
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });
});
