// Part 1 of the vSphere benchmark: the connector called in process, each call paired with the raw vim25 call it
// stands for.
import type { Collection, Discovery } from '../../src/connectors/connector';
import { DEFAULT_VIM_OPTIONS, VimClient } from '../../src/connectors/vsphere/vim-client';
import { inventorySpec } from '../../src/connectors/vsphere/vim-inventory';
import { moRef, textOf, type MoRef } from '../../src/connectors/vsphere/soap-xml';
import { VimApi } from '../../src/connectors/vsphere/vsphere-api';
import { VsphereConnector } from '../../src/connectors/vsphere/vsphere-connector';
import { type Vcsim } from '../../test/helpers/vcsim';
import { median } from '../lib/stats';
import { HOSTS, REPEATS, RUNS, Series, timed, Traffic, VMS } from './common';

// The properties VimClient asks for (src/connectors/vsphere/vim-client.ts, HOST_PROPS, VM_PROPS, QUICK_STATS_PROPS; not
// exported), repeated here for the raw baseline: the same request, answered by the same vcsim, with nothing mapped.
const RAW_INVENTORY = {
  cluster: ['resourcePool'],
  host: [
    'name',
    'hardware.cpuInfo.numCpuCores',
    'hardware.cpuInfo.hz',
    'hardware.memorySize',
    'runtime.connectionState',
    'runtime.inMaintenanceMode',
    'runtime.powerState',
  ],
  vm: [
    'name',
    'config.instanceUuid',
    'config.hardware.numCPU',
    'config.hardware.memoryMB',
    'config.template',
    'config.cpuAllocation',
    'config.memoryAllocation',
    'runtime.host',
    'runtime.powerState',
  ],
};
const RAW_QUICK_STATS = { cluster: [] as string[], host: ['summary.quickStats'], vm: ['summary.quickStats'] };

/**
 * The raw incremental read: a PropertyCollector of its own with one filter on the inventory (as InventoryWatcher makes),
 * read once in full; each next() is one WaitForUpdatesEx from the last version, nothing applied.
 */
async function rawWatcher(client: VimClient, cluster: MoRef): Promise<{ next(): Promise<unknown>; close(): Promise<void> }> {
  const [made] = await client.invoke('CreatePropertyCollector', await client.propertyCollector(), {});
  const collector = moRef(made)!;
  await client.invoke('CreateFilter', collector, { spec: inventorySpec(cluster, RAW_INVENTORY), partialUpdates: false });
  let version = '';
  const next = async () => {
    for (;;) {
      const [set] = await client.invoke('WaitForUpdatesEx', collector, { version, options: { maxWaitSeconds: 0 } });
      if (set === undefined) return;
      version = textOf(set, 'version') ?? version;
      if (textOf(set, 'truncated') !== 'true') return;
    }
  };
  await next();
  return { next, close: async () => void (await client.invoke('DestroyPropertyCollector', collector, {}).catch(() => undefined)) };
}

export interface Direct {
  discovery: Discovery;
  collection: Collection;
  rows: Record<string, string | number>[];
}

/** Part 1: the connector in process, each call paired with the raw vim25 call it stands for (order alternating by run). */
export async function direct(vcsim: Vcsim, clusterName: string): Promise<Direct> {
  const login = new Series();
  const first = new Series();
  const incremental = new Series();
  const collect = new Series();
  const rawInventory = new Series();
  const rawStats = new Series();
  const rawIncremental = new Series();
  let discovery: Discovery | undefined;
  let collection: Collection | undefined;
  for (let run = 0; run < RUNS; run++) {
    const traffic = new Traffic();
    const client = new VimClient({
      ...DEFAULT_VIM_OPTIONS,
      url: vcsim.url,
      username: vcsim.username,
      password: vcsim.password,
      thumbprintSha256: vcsim.sha256!,
      onResponse: (_method, _status, body) => {
        traffic.calls++;
        traffic.bytes += Buffer.byteLength(body);
      },
    });
    const connector = new VsphereConnector(new VimApi(client), clusterName);
    try {
      // The session is opened apart: the raw calls run on an open session too.
      const opened = await timed(() => client.connect());
      login.add(opened.ms, traffic.snapshot());
      const cluster = await connector.findCluster();
      const check = (d: Discovery) => {
        if (d.hosts.length !== HOSTS || d.vms.length !== VMS || d.unreachable.length > 0)
          throw new Error(`discovery found ${d.hosts.length} hosts, ${d.vms.length} VMs, unreachable ${JSON.stringify(d.unreachable)}`);
        return d;
      };
      const pair: [Series, () => Promise<unknown>][] = [
        [first, async () => (discovery = check(await connector.discover()))],
        [rawInventory, () => client.retrieve(inventorySpec(cluster.ref, RAW_INVENTORY))],
      ];
      for (const [series, fn] of run % 2 ? pair.reverse() : pair) {
        traffic.reset();
        series.add((await timed(fn)).ms, traffic.snapshot());
      }
      const raw = await rawWatcher(client, cluster.ref);
      const vmRefs = (await client.inventory(cluster.ref)).vms.map((vm) => vm.ref);
      for (let i = 0; i < REPEATS; i++) {
        const round: [Series, () => Promise<unknown>][] = [
          [rawIncremental, () => raw.next()],
          [incremental, async () => check(await connector.discover())],
          [
            collect,
            async () => {
              collection = await connector.collect();
              // Realtime samples since the last collection: at least one per VM (the first collection takes the last minute).
              const sampled = new Set(collection.samples.map((sample) => sample.vmName)).size;
              if (sampled !== VMS) throw new Error(`collect() sampled ${sampled} VMs of ${VMS}`);
            },
          ],
          // What collect() asks: the quick stats (memory consumed), then the VMs' realtime samples of the last 20 s.
          [
            rawStats,
            async () => {
              await client.retrieve(inventorySpec(cluster.ref, RAW_QUICK_STATS));
              await client.queryPerf(vmRefs, ['cpu.usagemhz.average', 'mem.active.average'], Date.now() - 20_000);
            },
          ],
        ];
        for (const [series, fn] of (run + i) % 2 ? round.reverse() : round) {
          traffic.reset();
          series.add((await timed(fn)).ms, traffic.snapshot());
        }
      }
      await raw.close();
    } finally {
      await connector.close();
    }
  }
  const row = (call: string, s: Series, baseline: Series | null) => ({
    call,
    runs: s.times.length,
    'median ms': median(s.times),
    'max ms': Math.max(...s.times),
    'SOAP calls': s.calls,
    'response KiB': s.bytes / 1024,
    'x baseline': baseline ? median(s.times) / median(baseline.times) : 1,
  });
  return {
    discovery: discovery!,
    collection: collection!,
    rows: [
      row('login (SessionManager.Login)', login, null),
      row('raw RetrievePropertiesEx, inventory (baseline)', rawInventory, null),
      row('discover(), first: full read', first, rawInventory),
      row('raw WaitForUpdatesEx, nothing changed', rawIncremental, rawInventory),
      row('discover(), next: WaitForUpdatesEx', incremental, rawInventory),
      row('raw quickStats + QueryPerf (baseline)', rawStats, null),
      row('collect()', collect, rawStats),
    ],
  };
}
