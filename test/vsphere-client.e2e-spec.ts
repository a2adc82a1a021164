// The vim25 client against govmomi's vCenter simulator (test/fixtures/vcsim, built from Debian's packages by
// test/helpers/vcsim.ts): TLS with a CA file and with a pinned thumbprint, inventory, rules, utilization and
// migrations through the API, as the vSphere connector uses them.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ConnectorError } from '../src/connectors/connector';
import { VimClient } from '../src/connectors/vsphere/vim-client';
import type { MoRef } from '../src/connectors/vsphere/soap-xml';
import { startVcsim, type Vcsim, type VcsimCluster } from './helpers/vcsim';
import { waitFor } from './helpers/wait';

jest.setTimeout(240_000);

const ref = (type: string, value: string): MoRef => ({ type, value });

describe('vim25 client on vcsim', () => {
  let sim: Vcsim;
  let client: VimClient;
  let c0: VcsimCluster;
  const newClient = (options: Partial<ConstructorParameters<typeof VimClient>[0]> = {}) =>
    new VimClient({
      url: sim.url,
      username: sim.username,
      password: sim.password,
      caPem: readFileSync(sim.certificateFile!, 'utf8'),
      ...options,
    });

  beforeAll(async () => {
    sim = await startVcsim({
      tls: true,
      clusters: 2,
      hosts: 3,
      vms: 2,
      username: 'ops@vsphere.local',
      password: 'pa<ss>&"word',
      drsEnabled: ['DC0_C1'],
      rules: {
        DC0_C0: {
          vmGroups: [{ name: 'web', vms: ['DC0_C0_H0_VM0', 'DC0_C0_H1_VM0'] }],
          hostGroups: [{ name: 'rack-a', hosts: ['DC0_C0_H0', 'DC0_C0_H1'] }],
          rules: [
            { name: 'db-together', kind: 'affinity', vms: ['DC0_C0_H1_VM1', 'DC0_C0_H2_VM1'] },
            { name: 'web-apart', kind: 'anti-affinity', vms: ['DC0_C0_H0_VM0', 'DC0_C0_H1_VM0'], mandatory: true },
            { name: 'web-on-a', kind: 'vm-host', vmGroup: 'web', affineHostGroup: 'rack-a', mandatory: true },
            { name: 'web-not-a', kind: 'vm-host', vmGroup: 'web', antiAffineHostGroup: 'rack-a', enabled: false },
          ],
        },
      },
    });
    c0 = sim.clusters.find((c) => c.name === 'DC0_C0')!;
    client = newClient();
  });

  afterAll(async () => {
    await client?.close();
    await sim?.kill();
  });

  const vmRef = (name: string) => ref('VirtualMachine', c0.hosts.flatMap((h) => h.vms).find((v) => v.name === name)!.ref);
  const hostRef = (name: string) => ref('HostSystem', c0.hosts.find((h) => h.name === name)!.ref);

  it('connects over TLS checked against the CA file and reads about', async () => {
    const about = await client.connect();
    expect(about.apiVersion).toBe('6.5');
    expect(about.apiType).toBe('VirtualCenter');
    expect(about.instanceUuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists the clusters with DRS on only where the simulator was told', async () => {
    const clusters = await client.clusters();
    expect(clusters.map(({ name, drsEnabled, drsBehavior }) => ({ name, drsEnabled, drsBehavior }))).toEqual([
      { name: 'DC0_C0', drsEnabled: false, drsBehavior: 'manual' },
      { name: 'DC0_C1', drsEnabled: true, drsBehavior: 'fullyAutomated' },
    ]);
    expect(clusters[0].ref).toEqual(ref('ClusterComputeResource', c0.ref));
  });

  it("reads a cluster's hosts and VMs, each VM on the host the simulator put it on", async () => {
    const inventory = await client.inventory(ref('ClusterComputeResource', c0.ref));
    expect(inventory.rootPool).toEqual(ref('ResourcePool', c0.pool));
    expect(inventory.hosts.map((h) => h.name)).toEqual(c0.hosts.map((h) => h.name));
    for (const host of inventory.hosts) {
      // The fixture's defaults: -host-cores 16 -host-mhz 2400 -host-memory-mib 131072.
      expect(host).toMatchObject({
        cpuCores: 16,
        cpuMhzPerCore: 2400,
        memoryMib: 131072,
        connectionState: 'connected',
        inMaintenanceMode: false,
      });
    }
    const expected = c0.hosts.flatMap((h) =>
      h.vms.map((v) => ({ name: v.name, ref: ref('VirtualMachine', v.ref), hostRef: ref('HostSystem', h.ref) })),
    );
    expect(inventory.vms.map(({ name, ref, hostRef }) => ({ name, ref, hostRef }))).toEqual(
      expected.sort((a, b) => a.name.localeCompare(b.name)),
    );
    for (const vm of inventory.vms) {
      expect(vm.power).toBe('poweredOn');
      expect([1, 2, 4, 8]).toContain(vm.vcpus);
      expect([1024, 2048, 4096, 8192, 16384]).toContain(vm.memoryMib);
      expect(vm.instanceUuid).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(new Set(inventory.vms.map((v) => v.instanceUuid)).size).toBe(inventory.vms.length);
  });

  it('reads the DRS groups and rules the simulator was started with', async () => {
    const rules = await client.rules(ref('ClusterComputeResource', c0.ref));
    expect(rules.groups).toEqual([
      { name: 'web', kind: 'vm', members: [vmRef('DC0_C0_H0_VM0'), vmRef('DC0_C0_H1_VM0')] },
      { name: 'rack-a', kind: 'host', members: [hostRef('DC0_C0_H0'), hostRef('DC0_C0_H1')] },
    ]);
    expect(rules.rules.map(({ key: _key, ...rule }) => rule)).toEqual([
      { name: 'db-together', enabled: true, mandatory: false, kind: 'affinity', vms: [vmRef('DC0_C0_H1_VM1'), vmRef('DC0_C0_H2_VM1')] },
      { name: 'web-apart', enabled: true, mandatory: true, kind: 'anti-affinity', vms: [vmRef('DC0_C0_H0_VM0'), vmRef('DC0_C0_H1_VM0')] },
      { name: 'web-on-a', enabled: true, mandatory: true, kind: 'vm-host', vmGroup: 'web', affineHostGroup: 'rack-a' },
      { name: 'web-not-a', enabled: false, mandatory: false, kind: 'vm-host', vmGroup: 'web', antiAffineHostGroup: 'rack-a' },
    ]);
    expect(new Set(rules.rules.map((r) => r.key)).size).toBe(4);
  });

  it('reads quickStats: every VM uses CPU and memory, each host at least what its VMs use, the first host the busiest', async () => {
    const stats = await client.quickStats(ref('ClusterComputeResource', c0.ref));
    expect(stats.vms).toHaveLength(6);
    for (const vm of stats.vms) {
      expect(vm.overallCpuUsageMhz).toBeGreaterThan(0);
      expect(vm.guestMemoryUsageMib).toBeGreaterThan(0);
      expect(vm.hostMemoryUsageMib).toBeGreaterThanOrEqual(vm.guestMemoryUsageMib);
    }
    const cpuOf = (name: string) => stats.hosts.find((h) => h.ref.value === hostRef(name).value)!.overallCpuUsageMhz;
    for (const host of c0.hosts) {
      const vmsCpu = host.vms.reduce((sum, v) => sum + stats.vms.find((s) => s.ref.value === v.ref)!.overallCpuUsageMhz, 0);
      expect(cpuOf(host.name)).toBeGreaterThanOrEqual(vmsCpu);
    }
    expect(new Set(stats.vms.map((v) => v.overallCpuUsageMhz)).size).toBe(6);
    expect(cpuOf('DC0_C0_H0')).toBeGreaterThan(cpuOf('DC0_C0_H2'));
  });

  it('queries realtime performance counters since a time, oldest sample first, close to quickStats', async () => {
    const vm = vmRef('DC0_C0_H0_VM0');
    const since = Date.now() - 100_000;
    const [perf] = await client.queryPerf(
      [vm],
      ['cpu.usagemhz.average', 'mem.active.average', 'cpu.ready.summation', 'no.such.counter'],
      since,
    );
    expect(perf.entity).toEqual(vm);
    expect(perf.samples.length).toBeGreaterThanOrEqual(4);
    for (const [i, sample] of perf.samples.entries()) {
      expect(sample.timestamp).toBeGreaterThanOrEqual(since - 20_000);
      if (i > 0) expect(sample.timestamp - perf.samples[i - 1].timestamp).toBe(20_000);
      expect(Object.keys(sample.values).sort()).toEqual(['cpu.ready.summation', 'cpu.usagemhz.average', 'mem.active.average']);
    }
    const quick = (await client.quickStats(ref('ClusterComputeResource', c0.ref))).vms.find((v) => v.ref.value === vm.value)!;
    const meanCpu = perf.samples.reduce((sum, s) => sum + s.values['cpu.usagemhz.average'], 0) / perf.samples.length;
    expect(meanCpu).toBeGreaterThan(quick.overallCpuUsageMhz * 0.7);
    expect(meanCpu).toBeLessThan(quick.overallCpuUsageMhz * 1.3);
    // mem.active is in KB.
    const meanActiveKb = perf.samples.reduce((sum, s) => sum + s.values['mem.active.average'], 0) / perf.samples.length;
    expect(meanActiveKb / 1024).toBeGreaterThan(quick.guestMemoryUsageMib * 0.7);
    expect(meanActiveKb / 1024).toBeLessThan(quick.guestMemoryUsageMib * 1.3);
  });

  it('relocates a VM: the task runs to success, the VM is on the target, the watcher sees only that change', async () => {
    const cluster = ref('ClusterComputeResource', c0.ref);
    const watcher = client.watchInventory(cluster);
    const before = await watcher.read();
    expect(watcher.lastRead).toBe('full');
    const vm = vmRef('DC0_C0_H2_VM0');
    const target = hostRef('DC0_C0_H1');
    await sim.setRelocateDelay(1_500);
    const task = await client.relocateVm(vm, target, ref('ResourcePool', c0.pool));
    const running = await client.taskInfo(task);
    expect(running.state === 'running' || running.state === 'queued').toBe(true);
    expect(running.entityRef).toEqual(vm);
    const done = (await waitFor(async () => {
      const info = await client.taskInfo(task);
      return info.state === 'success' || info.state === 'error' ? info : undefined;
    }, 20_000))!;
    expect(done).toMatchObject({ state: 'success', error: null, progress: 100 });
    expect(done.completeTime! - done.startTime!).toBeGreaterThanOrEqual(1_400);
    expect(await client.vmHost(vm)).toEqual(target);
    const after = await watcher.read();
    expect(watcher.lastRead).toBe('incremental');
    expect(after.vms.find((v) => v.name === 'DC0_C0_H2_VM0')!.hostRef).toEqual(target);
    expect(after.vms.filter((v) => v.name !== 'DC0_C0_H2_VM0')).toEqual(before.vms.filter((v) => v.name !== 'DC0_C0_H2_VM0'));
    expect(after.hosts).toEqual(before.hosts);
    await watcher.close();
  });

  it('the watcher starts over with a full read when its collector is gone', async () => {
    const cluster = ref('ClusterComputeResource', c0.ref);
    const watcher = client.watchInventory(cluster);
    const first = await watcher.read();
    // As after a vCenter restart or a new session: the server no longer knows the collector.
    await client.invoke('DestroyPropertyCollector', watcher.collectorRef!, {});
    const again = await watcher.read();
    expect(watcher.lastRead).toBe('full');
    expect(again).toEqual(first);
    await watcher.close();
  });

  it('cancels a long migration: the task ends cancelled and the VM stays; a second cancel is refused', async () => {
    const vm = vmRef('DC0_C0_H0_VM1');
    const source = hostRef('DC0_C0_H0');
    await sim.setRelocateDelay(60_000);
    const task = await client.relocateVm(vm, hostRef('DC0_C0_H2'));
    await waitFor(async () => ((await client.taskInfo(task)).state === 'running' ? true : undefined), 10_000);
    await client.cancelTask(task);
    const info = await waitFor(async () => {
      const current = await client.taskInfo(task);
      return current.state === 'error' ? current : undefined;
    }, 10_000);
    expect(info).toMatchObject({ cancelled: true, errorType: 'RequestCanceled', error: 'The task was canceled by a user.' });
    expect(await client.vmHost(vm)).toEqual(source);
    const again = await client.cancelTask(task).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConnectorError);
    expect((again as ConnectorError).reason).toBe('refused');
  });

  it('a running task is found again by its reference from a new session, and later finishes', async () => {
    const vm = vmRef('DC0_C0_H1_VM1');
    const target = hostRef('DC0_C0_H0');
    await sim.setRelocateDelay(3_000);
    const first = newClient();
    const task = await first.relocateVm(vm, target);
    // The service dies without logging out: only the task's reference survives.
    (first as unknown as { agent: { destroy(): void } }).agent.destroy();
    const second = newClient();
    try {
      expect((await second.taskInfo(task)).state).toBe('running');
      const done = (await waitFor(async () => {
        const info = await second.taskInfo(task);
        return info.state === 'running' ? undefined : info;
      }, 20_000))!;
      expect(done.state).toBe('success');
      expect(await second.vmHost(vm)).toEqual(target);
    } finally {
      await second.close();
    }
  });

  it('refuses to migrate a VM that already has a migration running', async () => {
    await sim.setRelocateDelay(30_000);
    const vm = vmRef('DC0_C0_H0_VM0');
    const task = await client.relocateVm(vm, hostRef('DC0_C0_H1'));
    const error = await client.relocateVm(vm, hostRef('DC0_C0_H2')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).reason).toBe('refused');
    expect((error as ConnectorError).message).toMatch(/TaskInProgress/);
    await client.cancelTask(task);
  });

  it('a wrong password is an auth error that does not contain the password', async () => {
    const wrong = newClient({ password: 'not-the-password' });
    const error = await wrong.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).reason).toBe('auth');
    expect((error as ConnectorError).message).not.toContain('not-the-password');
    await wrong.close();
  });

  it('nothing listening: unreachable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const nobody = new VimClient({ url: `https://127.0.0.1:${port}/sdk`, username: 'u', password: 'p', timeoutMs: 5_000 });
    const error = await nobody.connect().catch((e: unknown) => e);
    expect((error as ConnectorError).reason).toBe('unreachable');
    await nobody.close();
  });

  it('TLS with the pinned thumbprint of the simulator: accepted; with another: refused', async () => {
    const pinned = newClient({ caPem: undefined, thumbprintSha256: sim.sha256! });
    await expect(pinned.connect()).resolves.toMatchObject({ apiVersion: '6.5' });
    await pinned.close();
    const other = newClient({ caPem: undefined, thumbprintSha256: sim.sha256!.replace(/^../, sim.sha256!.startsWith('00') ? '11' : '00') });
    const error = await other.connect().catch((e: unknown) => e);
    expect((error as ConnectorError).reason).toBe('auth');
    expect((error as ConnectorError).message).toContain(`SHA-256 ${sim.sha256}`);
    await other.close();
    const untrusted = newClient({ caPem: undefined });
    expect(((await untrusted.connect().catch((e: unknown) => e)) as ConnectorError).reason).toBe('auth');
    await untrusted.close();
  });
});
