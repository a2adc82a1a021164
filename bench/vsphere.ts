// Issue target ("Real hypervisors III: vSphere"): on a simulated 32-host / 1,000-VM cluster, the connector's discovery,
// collection and full-pass times. One vcsim (test/fixtures/vcsim: govmomi's vCenter simulator, TLS with a pinned SHA-256)
// with one cluster whose first hosts are the busiest. Measured:
//   1. the connector called in process (VsphereConnector + VimApi + VimClient): discover(), the first (full read) and the
//      following ones (WaitForUpdatesEx increments), and collect(); in the service, PUT …/connector to every host and VM in
//      the inventory, and to every VM having a sample;
//   2. passes on the synced and sampled cluster: manual ones (planning only), and one fully automated pass whose
//      migrations run through vCenter (RelocateVM_Task);
// against baselines taken in the same run: the raw vim25 calls alone (one RetrievePropertiesEx of the inventory, one of
// the quick stats, nothing mapped), and the same inventory and samples pushed through the manual API (PUT …/inventory,
// POST /samples) into a cluster of their own, where the same passes are timed too.
// vcsim's WaitForUpdatesEx with maxWaitSeconds 0 waits one 250 ms tick for changes before it answers "none"
// (govmomi 0.24 simulator/property_collector.go): an incremental discovery here costs at least that, a vCenter's need not.
// Needs Go and govmomi's sources from Debian (test/fixtures/vcsim/vcsim.sh install: root, or the packages already there).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Collection, Discovery } from '../src/connectors/connector';
import { inventoryOf } from '../src/connectors/discovery-inventory';
import { DEFAULT_VIM_OPTIONS, VimClient } from '../src/connectors/vsphere/vim-client';
import { inventorySpec } from '../src/connectors/vsphere/vim-inventory';
import { moRef, textOf, type MoRef } from '../src/connectors/vsphere/soap-xml';
import { VimApi } from '../src/connectors/vsphere/vsphere-api';
import { VsphereConnector } from '../src/connectors/vsphere/vsphere-connector';
import { call, ChildApp, killApp, openFile, startApp } from '../test/helpers/child-app';
import { startVcsim, type Vcsim } from '../test/helpers/vcsim';
import { median, printTable } from './lib/stats';

const HOSTS = 32;
const VMS = 1_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** discover() and collect() calls per connector after its first discovery. */
const REPEATS = 3;
/** The service's sync and collection intervals: the time to "every VM sampled" includes waiting for the next collection. */
const LOOP_SECONDS = Number(process.env.BENCH_VSPHERE_LOOP_SECONDS ?? 2);
const POLL_MS = 100;
const SETTLE_TIMEOUT_MS = 10 * 60_000;

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (since: number) => performance.now() - since;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: ms(started), value };
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null | false>, everyMs = POLL_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** What one kind of call cost: its times, and the SOAP calls and response bytes of its last occurrence. */
class Series {
  readonly times: number[] = [];
  calls = 0;
  bytes = 0;
  add(ms: number, traffic: Traffic): void {
    this.times.push(ms);
    this.calls = traffic.calls;
    this.bytes = traffic.bytes;
  }
}

/** SOAP responses seen by a client since the last reset (VimClient's onResponse: bodies only, never a request). */
class Traffic {
  calls = 0;
  bytes = 0;
  reset(): this {
    this.calls = 0;
    this.bytes = 0;
    return this;
  }
  snapshot(): Traffic {
    return Object.assign(new Traffic(), { calls: this.calls, bytes: this.bytes });
  }
}

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

interface Direct {
  discovery: Discovery;
  collection: Collection;
  rows: Record<string, string | number>[];
}

/** Part 1: the connector in process, each call paired with the raw vim25 call it stands for (order alternating by run). */
async function direct(vcsim: Vcsim, clusterName: string): Promise<Direct> {
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

interface Balance {
  imbalance: number;
  target: number;
  balanced: boolean;
}

interface Pass {
  status: string;
  imbalanceBefore: number | null;
  imbalanceAfter: number | null;
  movesRecommended: number;
  movesApplied: number;
  notes: string;
}

interface Migration {
  id: string;
  state: string;
  driver: string;
  attempts: number;
  error: string | null;
}

/** Parts 2 and 3: the real service in a child process, fed by the connector and, as the baseline, by the manual API. */
async function service(vcsim: Vcsim, clusterName: string, found: Direct): Promise<Record<string, string | number>[][]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-bench-vsphere-'));
  const databasePath = join(dataDir, 'drs.sqlite');
  let app: ChildApp | undefined;
  const db = { reader: null as ReturnType<typeof openFile> | null };
  try {
    app = await startApp({
      DATABASE_PATH: databasePath,
      LOG_LEVEL: 'warn',
      DEMO_ENABLED: false,
      RATE_LIMIT_MAX: 0,
      // Passes are asked for below: none runs on its own interval in between.
      SCHEDULER_ENABLED: false,
      CONNECTOR_SYNC_INTERVAL_SECONDS: LOOP_SECONDS,
      CONNECTOR_COLLECT_INTERVAL_SECONDS: LOOP_SECONDS,
    });
    const child = app;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await call(child, method, `/api/v1${path}`, body);
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
      return res.body;
    };
    const total = async (path: string) => ((await api('GET', path)) as { total: number }).total;
    const inventoryDone = async (cid: string) =>
      (await total(`/hosts?clusterId=${cid}&limit=1`)) === HOSTS && (await total(`/vms?clusterId=${cid}&limit=1`)) === VMS;
    // No API lists which of 1,000 VMs have samples short of 1,000 requests: the file is read directly (WAL: a reader waits for no writer).
    db.reader = openFile(databasePath);
    const sampledVms = async (cid: string) =>
      (
        await db.reader!.all<{ n: number }>(
          `SELECT COUNT(DISTINCT "subjectId") AS n FROM samples WHERE "clusterId" = ? AND "subjectKind" = 'vm'`,
          [cid],
        )
      )[0].n;

    const settings = { url: vcsim.url, cluster: clusterName, certificateSha256: vcsim.sha256 };
    const credentials = { username: vcsim.username, password: vcsim.password };
    const inventory = inventoryOf(found.discovery);
    const connectorRuns = { synced: [] as number[], sampled: [] as number[] };
    const manualRuns = { synced: [] as number[], sampled: [] as number[] };
    let connectorCluster = '';
    let manualCluster = '';

    const viaConnector = async (run: number) => {
      // The loops of the previous run would load the machine during this one.
      if (connectorCluster) await api('DELETE', `/clusters/${connectorCluster}/connector`);
      const cid: string = (await api('POST', '/clusters', { name: `vsphere-${run}` })).id;
      const started = performance.now();
      await api('PUT', `/clusters/${cid}/connector`, { kind: 'vsphere', settings, credentials });
      await until('the connector to sync every host and VM', 120_000, () => inventoryDone(cid)).catch(async (error: Error) => {
        const status = await api('GET', `/clusters/${cid}/connector`);
        const counts = `${await total(`/hosts?clusterId=${cid}&limit=1`)} hosts, ${await total(`/vms?clusterId=${cid}&limit=1`)} VMs`;
        throw new Error(`run ${run}: ${error.message} (${counts}; connector ${JSON.stringify(status)}; stderr: ${child.stderr()})`);
      });
      connectorRuns.synced.push(ms(started));
      await until('a sample of every VM', 120_000, async () => (await sampledVms(cid)) === VMS);
      connectorRuns.sampled.push(ms(started));
      const state = (await api('GET', `/clusters/${cid}/connector`)) as { state: string; lastError: string | null };
      if (state.state !== 'ok') throw new Error(`connector ${state.state}: ${state.lastError}`);
      connectorCluster = cid;
    };
    const viaManualApi = async (run: number) => {
      const cid: string = (await api('POST', '/clusters', { name: `manual-${run}` })).id;
      const started = performance.now();
      await api('PUT', `/clusters/${cid}/inventory`, inventory);
      manualRuns.synced.push(ms(started));
      const timestamp = Date.now();
      const samples = found.collection.samples.map(({ vmName, cpuMhz, memoryActiveMib, memoryConsumedMib }) => ({
        clusterId: cid,
        vmName,
        timestamp,
        cpuMhz,
        memoryActiveMib,
        memoryConsumedMib,
      }));
      const accepted = ((await api('POST', '/samples', { samples })) as { accepted: number }).accepted;
      if (accepted !== VMS) throw new Error(`POST /samples accepted ${accepted} of ${VMS}`);
      manualRuns.sampled.push(ms(started));
      manualCluster = cid;
    };
    for (let run = 0; run < RUNS; run++) {
      const pair = [viaConnector, viaManualApi];
      for (const fn of run % 2 ? pair.reverse() : pair) await fn(run);
    }
    const serviceRows = [
      {
        path: 'manual API: PUT …/inventory (baseline)',
        runs: manualRuns.synced.length,
        'median ms': median(manualRuns.synced),
        'max ms': Math.max(...manualRuns.synced),
        'x baseline': 1,
      },
      {
        path: 'connector: PUT …/connector to all in GET /vms',
        runs: connectorRuns.synced.length,
        'median ms': median(connectorRuns.synced),
        'max ms': Math.max(...connectorRuns.synced),
        'x baseline': median(connectorRuns.synced) / median(manualRuns.synced),
      },
      {
        path: 'manual API: + POST /samples (baseline)',
        runs: manualRuns.sampled.length,
        'median ms': median(manualRuns.sampled),
        'max ms': Math.max(...manualRuns.sampled),
        'x baseline': 1,
      },
      {
        path: 'connector: PUT …/connector to every VM sampled',
        runs: connectorRuns.sampled.length,
        'median ms': median(connectorRuns.sampled),
        'max ms': Math.max(...connectorRuns.sampled),
        'x baseline': median(connectorRuns.sampled) / median(manualRuns.sampled),
      },
    ];

    // Manual passes plan every VM and move nothing: the connector's cluster (its loops still running) against the manual
    // API's cluster, which holds the same hosts, VMs and samples.
    for (const cid of [connectorCluster, manualCluster]) await api('PUT', `/clusters/${cid}/policy`, { automationLevel: 'manual' });
    const passTimes = new Map<string, number[]>([
      [connectorCluster, []],
      [manualCluster, []],
    ]);
    const recommended = new Map<string, number>();
    for (let run = 0; run < RUNS; run++) {
      const pair = [connectorCluster, manualCluster];
      for (const cid of run % 2 ? pair.reverse() : pair) {
        const { ms: took, value } = await timed(() => api('POST', `/clusters/${cid}/passes`) as Promise<Pass>);
        if (value.status !== 'completed' || value.movesApplied !== 0) throw new Error(`manual pass: ${JSON.stringify(value)}`);
        passTimes.get(cid)!.push(took);
        recommended.set(cid, value.movesRecommended);
      }
    }
    const vmSamples = async (cid: string) =>
      (await db.reader!.all<{ n: number }>(`SELECT COUNT(*) AS n FROM samples WHERE "clusterId" = ? AND "subjectKind" = 'vm'`, [cid]))[0].n;
    const samplesWith = await vmSamples(connectorCluster);
    // The same passes once the connector's loops are stopped (the inventory and samples stay): what their writes cost a pass.
    await api('DELETE', `/clusters/${connectorCluster}/connector`);
    const stopped: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { ms: took, value } = await timed(() => api('POST', `/clusters/${connectorCluster}/passes`) as Promise<Pass>);
      if (value.status !== 'completed' || value.movesApplied !== 0) throw new Error(`manual pass: ${JSON.stringify(value)}`);
      stopped.push(took);
    }
    const passRow = (cluster: string, times: number[], moves: number, samples: number) => ({
      cluster,
      runs: times.length,
      'median ms': median(times),
      'max ms': Math.max(...times),
      'moves recommended': moves,
      'VM samples stored': samples,
      'x baseline': median(times) / median(passTimes.get(manualCluster)!),
    });
    const manualPassRows = [
      passRow('manual API (baseline)', passTimes.get(manualCluster)!, recommended.get(manualCluster)!, await vmSamples(manualCluster)),
      passRow('vsphere connector, its loops running', passTimes.get(connectorCluster)!, recommended.get(connectorCluster)!, samplesWith),
      passRow('vsphere connector, loops stopped', stopped, recommended.get(connectorCluster)!, await vmSamples(connectorCluster)),
    ];
    const again = Date.now();
    await api('PUT', `/clusters/${connectorCluster}/connector`, { kind: 'vsphere', settings, credentials });
    await until('the connector to sync again', 120_000, async () => {
      const c = (await api('GET', `/clusters/${connectorCluster}/connector`)) as { state: string; lastSyncAt: number | null };
      return c.state === 'ok' && c.lastSyncAt !== null && c.lastSyncAt > again;
    });

    // One fully automated pass on the connector's cluster: vMotions through vCenter.
    const cid = connectorCluster;
    await api('PUT', `/clusters/${cid}/policy`, { automationLevel: 'fully-automated' });
    const before: Balance = await api('GET', `/clusters/${cid}/balance`);
    const relocationsBefore = (await vcsim.placement()).reduce((sum, p) => sum + p.relocations, 0);
    const started = performance.now();
    const pass: Pass = await api('POST', `/clusters/${cid}/passes`);
    const passMs = ms(started);
    await until(
      'the migrations to end',
      SETTLE_TIMEOUT_MS,
      async () => (await total(`/migrations?clusterId=${cid}&state=queued,running&limit=1`)) === 0,
      250,
    );
    const settledMs = ms(started);
    const migrations = ((await api('GET', `/migrations?clusterId=${cid}&limit=1000`)) as { items: Migration[] }).items;
    const placement = await vcsim.placement();
    const relocations = placement.reduce((sum, p) => sum + p.relocations, 0) - relocationsBefore;
    // The inventory agrees with vCenter once a sync has run after the last migration.
    const hostNames = new Map(
      ((await api('GET', `/hosts?clusterId=${cid}&limit=100`)) as { items: { id: string; name: string }[] }).items.map((h) => [
        h.id,
        h.name,
      ]),
    );
    const truth = new Map(placement.map((p) => [p.vm, p.host]));
    await until(
      'the inventory to agree with vCenter',
      120_000,
      async () => {
        const vms = ((await api('GET', `/vms?clusterId=${cid}&limit=1000`)) as { items: { name: string; hostId: string }[] }).items;
        return vms.length === VMS && vms.every((vm) => truth.get(vm.name) === hostNames.get(vm.hostId));
      },
      500,
    );
    const agreedMs = ms(started);
    const after: Balance = await api('GET', `/clusters/${cid}/balance`);
    const failed = migrations.filter((m) => m.state !== 'succeeded');
    const byState = [...new Set(migrations.map((m) => m.state))].map((s) => `${s} ${migrations.filter((m) => m.state === s).length}`);
    const automatedRows = [
      {
        'pass ms': passMs,
        'moves recommended': pass.movesRecommended,
        migrations: migrations.length,
        'vcsim relocations': relocations,
        states: byState.join(', ') || '-',
        'all settled s': settledMs / 1000,
        'inventory agrees s': agreedMs / 1000,
        'I if nothing moved (baseline)': before.imbalance,
        'I predicted': pass.imbalanceAfter ?? NaN,
        'I after': after.imbalance,
        target: after.target,
        'x baseline': after.imbalance / before.imbalance,
      },
    ];
    if (failed.length > 0) {
      printTable(
        'Migrations that did not succeed (first 10)',
        failed.slice(0, 10).map((m) => ({ state: m.state, driver: m.driver, attempts: m.attempts, error: (m.error ?? '-').slice(0, 150) })),
      );
    }
    const warnings = child.stderr().trim();
    if (warnings) console.log(`\nThe service's last warnings and errors (stderr, last 4,000 characters):\n${warnings}`);
    return [serviceRows, manualPassRows, automatedRows];
  } finally {
    await db.reader?.close();
    if (app) await killApp(app);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runStarted = performance.now();
  const loadAtStart = loadavg();
  let vcsim: Vcsim | undefined;
  process.once('SIGINT', () => {
    console.error('SIGINT: stopping vcsim');
    void (vcsim?.kill() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  try {
    const up = await timed(() => startVcsim({ clusters: 1, hosts: HOSTS, clusterVms: VMS, tls: true, load: 1 }));
    vcsim = up.value;
    const cluster = vcsim.clusters[0];
    const vmCount = cluster.hosts.reduce((sum, h) => sum + h.vms.length, 0);
    if (cluster.hosts.length !== HOSTS || vmCount !== VMS) throw new Error(`vcsim made ${cluster.hosts.length} hosts, ${vmCount} VMs`);
    printTable('Setup', [{ 'vcsim up s': up.ms / 1000, cluster: cluster.name, hosts: HOSTS, VMs: VMS, TLS: 'pinned SHA-256' }]);

    const found = await direct(vcsim, cluster.name);
    printTable(
      `Connector in process: ${HOSTS} hosts, ${VMS} VMs; each run a new VimClient and connector, ` +
        `first discovery then ${REPEATS} discover()/collect() pairs; raw calls on the same session ` +
        '(vcsim answers an incremental WaitForUpdatesEx after a 250 ms tick)',
      found.rows,
    );
    const [serviceRows, manualPassRows, automatedRows] = await service(vcsim, cluster.name, found);
    printTable(
      `In the service (child process, sync and collection every ${LOOP_SECONDS} s): a new cluster per run; ` +
        'baseline: the same inventory and samples through the manual API',
      serviceRows,
    );
    printTable(`Manual passes: planning ${VMS} VMs on ${HOSTS} hosts, nothing moves`, manualPassRows);
    printTable('One fully automated pass on the connector cluster: vMotion by RelocateVM_Task through vCenter', automatedRows);
  } catch (error) {
    // A simulator that died says why only in its log (a Go panic or fatal error), which kill() removes.
    const log = vcsim ? join(vcsim.stateDir, 'vcsim.log') : '';
    const text = log && existsSync(log) ? readFileSync(log, 'utf8') : '';
    const crash = text.search(/^(panic|fatal error):/m);
    if (crash >= 0) console.error(`vcsim died:\n${text.slice(crash, crash + 3000)}`);
    throw error;
  } finally {
    await vcsim?.kill();
    const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
    console.log(`\nLoad average (1, 5, 15 min) at the start: ${load(loadAtStart)}; at the end: ${load(loadavg())}`);
    console.log(`Run time: ${(ms(runStarted) / 1000).toFixed(0)} s`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
