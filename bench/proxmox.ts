// Issue target ("Real hypervisors II"): on a simulated Proxmox VE cluster of 32 nodes and 1,000 guests (the PVE 9 API
// simulator, test/fixtures/pve-simulator, in its own process), the connector's discovery and collection times and the
// time of a fully automated pass from a skewed start to its migrations' end. Baselines in the same run: the raw API
// calls the connector makes, over the same keep-alive client, nothing parsed; and the same migrations asked raw
// (POST migrate; for HA-managed guests the same call queues the HA manager's migration) and followed until PVE shows
// every guest moved back. The token is the generated cluster's: PVEVMAdmin and PVEAuditor, without Sys.Console.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PveClient } from '../src/connectors/proxmox/pve-client';
import { parseResources } from '../src/connectors/proxmox/pve-parse';
import { ProxmoxConnector } from '../src/connectors/proxmox/proxmox-connector';
import { generateScenario, type Scenario } from '../test/fixtures/pve-simulator/scenario';
import { call, type ChildApp, killApp, startApp } from '../test/helpers/child-app';
import { startPveSimulator, type PveSimulator } from '../test/helpers/pve-simulator';
import { median, printTable } from './lib/stats';

const NODES = Number(process.env.BENCH_PVE_NODES ?? 32);
const GUESTS = Number(process.env.BENCH_PVE_GUESTS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ROUNDS = Number(process.env.BENCH_PVE_ROUNDS ?? 3);
/** The nodes left empty by the skew: the pass has somewhere to move guests to. */
const EMPTY_NODES = Math.max(1, Math.floor(NODES / 4));
const SPEED = 60;
/** Any node answers for the cluster: the connector is given a few, as an operator would. */
const ENDPOINTS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => (performance.now() - since) / 1000;

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null | false>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The generated cluster with the guests of the last nodes (HA-managed ones excepted: their rules name their node) moved to the first. */
function skewedScenario(): Scenario {
  const scenario = generateScenario({ nodes: NODES, guests: GUESTS, seed: 7 });
  const kept = NODES - EMPTY_NODES;
  scenario.guests.forEach((g, i) => {
    const index = Number(g.node.slice(3)) - 1;
    if (index >= kept && !g.ha) g.node = `pve${(i % kept) + 1}`;
  });
  return { ...scenario, speed: SPEED };
}

function clientFor(sim: PveSimulator, scenario: Scenario): PveClient {
  const token = scenario.tokens[0];
  return new PveClient({
    endpoints: sim.urls.slice(0, ENDPOINTS),
    tokenId: token.id,
    secret: token.secret,
    certificateSha256: sim.fingerprint,
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** A discovery's calls, nothing parsed: the cluster-wide reads, then (cold) every node's status and every VM's migrate preconditions. */
async function rawDiscovery(client: PveClient, cold: boolean): Promise<void> {
  const [resources] = await Promise.all([
    client.get('/cluster/resources'),
    client.get('/cluster/options'),
    client.get('/cluster/ha/status/manager_status'),
    client.get('/cluster/ha/resources'),
    client.get('/cluster/ha/rules'),
  ]);
  if (!cold) return;
  const { nodes, guests } = parseResources(resources);
  await Promise.all(nodes.map((n) => client.get(`/nodes/${n.name}/status`)));
  await Promise.all(
    guests.filter((g) => g.type === 'qemu' && !g.template && !g.lock).map((g) => client.get(`/nodes/${g.node}/qemu/${g.vmid}/migrate`)),
  );
}

/** A collection's calls: /cluster/resources, and (first) every running VM's last hour of RRD data. */
async function rawCollection(client: PveClient, backfill: boolean): Promise<void> {
  const resources = await client.get('/cluster/resources');
  if (!backfill) return;
  const { guests } = parseResources(resources);
  await Promise.all(
    guests
      .filter((g) => g.type === 'qemu' && g.status === 'running' && !g.template)
      .map((g) => client.get(`/nodes/${g.node}/qemu/${g.vmid}/rrddata`, { timeframe: 'hour', cf: 'AVERAGE' })),
  );
}

interface Pair {
  connector: number[];
  raw: number[];
}

/** Part 1: the connector called directly, each call paired with the same API calls made raw (order alternating). */
async function connectorTimes(): Promise<void> {
  const scenario = skewedScenario();
  const sim = await startPveSimulator(scenario);
  const load = loadavg()[0].toFixed(1);
  const times: Record<string, Pair> = {
    'discover, first (node status, migrate preconditions)': { connector: [], raw: [] },
    'discover, later (cached capacity and preconditions)': { connector: [], raw: [] },
    'collect, first (with the last hour of RRD data)': { connector: [], raw: [] },
    'collect, later': { connector: [], raw: [] },
  };
  let found = { hosts: 0, vms: 0, held: 0, rules: 0, samples: 0, calls: 0 };
  try {
    for (let run = 0; run < RUNS; run++) {
      const client = clientFor(sim, scenario);
      const connector = new ProxmoxConnector(client, { allowLocalDisks: false, migration: {} });
      const raw = clientFor(sim, scenario);
      const pairs: Array<[string, () => Promise<unknown>, () => Promise<unknown>]> = [
        [
          'discover, first (node status, migrate preconditions)',
          async () => {
            const before = client.calls;
            const d = await connector.discover();
            if (d.unreachable.length > 0) throw new Error(`discovery: ${JSON.stringify(d.unreachable)}`);
            found = {
              ...found,
              hosts: d.hosts.length,
              vms: d.vms.length,
              held: d.vms.filter((v) => v.heldBy).length,
              rules: d.rules?.rules.length ?? 0,
            };
            found.calls = client.calls - before;
          },
          () => rawDiscovery(raw, true),
        ],
        ['discover, later (cached capacity and preconditions)', () => connector.discover(), () => rawDiscovery(raw, false)],
        [
          'collect, first (with the last hour of RRD data)',
          async () => {
            const c = await connector.collect();
            found.samples = c.samples.length;
          },
          () => rawCollection(raw, true),
        ],
        ['collect, later', () => connector.collect(), () => rawCollection(raw, false)],
      ];
      for (const [what, ours, baseline] of pairs) {
        const order: Array<[keyof Pair, () => Promise<unknown>]> = [
          ['connector', ours],
          ['raw', baseline],
        ];
        for (const [who, fn] of run % 2 ? order.reverse() : order) times[what][who].push(await timed(fn));
      }
      await connector.close();
      raw.close();
    }
  } finally {
    await sim.stop();
  }
  printTable(
    `Connector calls: ${NODES} nodes, ${found.vms} guests in the inventory (${found.held} held), ${found.rules} rules imported, ` +
      `${found.calls} API calls in a first discovery, ${found.samples} samples in a first collection; load average ${load} at the start`,
    Object.entries(times).flatMap(([what, t]) => [
      {
        call: `${what}: raw API calls (baseline)`,
        runs: t.raw.length,
        'median ms': median(t.raw),
        'max ms': Math.max(...t.raw),
        'x baseline': 1,
      },
      {
        call: `${what}: ProxmoxConnector`,
        runs: t.connector.length,
        'median ms': median(t.connector),
        'max ms': Math.max(...t.connector),
        'x baseline': median(t.connector) / median(t.raw),
      },
    ]),
  );
}

interface Move {
  vmid: number;
  name: string;
  from: string;
  to: string;
  ha: boolean;
}

/** The baseline of a pass's migrations: the same guests sent back by raw calls, followed until PVE shows each moved. */
async function rawMigrations(client: PveClient, moves: Move[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    moves.map(async (m) => {
      if (m.ha) {
        // The benchmark's token has no Sys.Console: qemu-server queues the HA manager's migration (a hamigrate task).
        await client.post(`/nodes/${m.to}/qemu/${m.vmid}/migrate`, { target: m.from, online: 1 });
      } else {
        const upid = await client.post<string>(`/nodes/${m.to}/qemu/${m.vmid}/migrate`, { target: m.from, online: 1 });
        await until(`task ${upid}`, 300_000, async () => {
          const status = await client.get<{ status: string; exitstatus?: string }>(
            `/nodes/${m.to}/tasks/${encodeURIComponent(upid)}/status`,
          );
          if (status.status === 'stopped' && status.exitstatus !== 'OK') throw new Error(`${upid}: ${status.exitstatus}`);
          return status.status === 'stopped';
        });
      }
    }),
  );
  await until('every guest back', 300_000, async () => {
    const { guests } = parseResources(await client.get('/cluster/resources', { type: 'vm' }));
    const node = new Map(guests.map((g) => [g.vmid, g.node]));
    return moves.every((m) => node.get(m.vmid) === m.from);
  });
  return seconds(started);
}

/** Part 2: the real service reads the cluster through the connector and runs a fully automated pass, per round on a fresh cluster. */
async function serviceBalancing(dataDir: string): Promise<void> {
  let app: ChildApp | undefined;
  const rounds: Array<Record<string, string | number>> = [];
  try {
    app = await startApp({
      DATABASE_PATH: join(dataDir, 'drs.sqlite'),
      DEMO_ENABLED: false,
      RATE_LIMIT_MAX: 0,
      SCHEDULER_ENABLED: false,
      CONNECTOR_SYNC_INTERVAL_SECONDS: 5,
      CONNECTOR_COLLECT_INTERVAL_SECONDS: 5,
    });
    const child = app;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the service's API
    const api = async (method: string, path: string, body?: unknown): Promise<any> => {
      const res = await call(child, method, `/api/v1${path}`, body);
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
      return res.body;
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const scenario = skewedScenario();
      const sim = await startPveSimulator(scenario);
      const client = clientFor(sim, scenario);
      try {
        const cid: string = (await api('POST', '/clusters', { name: `pve-bench-${round}` })).id;
        const configured = performance.now();
        await api('PUT', `/clusters/${cid}/connector`, {
          kind: 'proxmox',
          settings: { endpoints: sim.urls.slice(0, ENDPOINTS), certificateSha256: sim.fingerprint },
          credentials: { tokenId: scenario.tokens[0].id, secret: scenario.tokens[0].secret },
        });
        const expected = scenario.guests.filter((g) => !g.template).length;
        await until('the first sync', 120_000, async () => (await api('GET', `/vms?clusterId=${cid}&limit=1`)).total === expected);
        const firstSync = seconds(configured);
        // Two collections after the first sync: the RRD backfill and a live round for the containers.
        const synced = Date.now();
        await until('two collections', 120_000, async () => {
          const c = await api('GET', `/clusters/${cid}/connector`);
          return c.state === 'ok' && (c.lastCollectAt ?? 0) > synced + 5000;
        });
        await api('PUT', `/clusters/${cid}/policy`, { automationLevel: 'fully-automated' });
        const before = await api('GET', `/clusters/${cid}/balance`);
        const placed = new Map(parseResources(await client.get('/cluster/resources', { type: 'vm' })).guests.map((g) => [g.vmid, g.node]));
        const started = performance.now();
        const pass = await api('POST', `/clusters/${cid}/passes`);
        const planned = seconds(started);
        await until(
          'the migrations to end',
          600_000,
          async () => (await api('GET', `/migrations?clusterId=${cid}&state=queued,running&limit=1`)).total === 0,
          500,
        );
        const took = seconds(started);
        const after = await api('GET', `/clusters/${cid}/balance`);
        const migrations = (await api('GET', `/migrations?clusterId=${cid}&limit=1000`)).items as Array<{
          state: string;
          error: string | null;
        }>;
        const failed = migrations.filter((m) => m.state !== 'succeeded');
        if (failed.length > 0) console.log(`round ${round}: ${failed.length} migration(s) did not succeed, e.g. ${failed[0].error}`);
        const { guests } = parseResources(await client.get('/cluster/resources', { type: 'vm' }));
        const haSids = new Set((await client.get<Array<{ sid: string }>>('/cluster/ha/resources')).map((r) => r.sid));
        const moves: Move[] = guests
          .filter((g) => placed.get(g.vmid) !== g.node)
          .map((g) => ({ vmid: g.vmid, name: g.name, from: placed.get(g.vmid)!, to: g.node, ha: haSids.has(`vm:${g.vmid}`) }));
        await api('DELETE', `/clusters/${cid}/connector`);
        const baseline = moves.length > 0 ? await rawMigrations(client, moves) : 0;
        rounds.push({
          round,
          'first sync s': firstSync,
          'imbalance before': before.imbalance,
          'imbalance after': after.imbalance,
          'moves planned': pass.movesRecommended ?? migrations.length,
          succeeded: migrations.filter((m) => m.state === 'succeeded').length,
          'HA moves': moves.filter((m) => m.ha).length,
          'plan s': planned,
          'pass to last migration s': took,
          'raw migrations back s (baseline)': baseline,
        });
      } finally {
        client.close();
        await sim.stop();
      }
    }
  } finally {
    if (app) await killApp(app);
  }
  printTable(
    `Fully automated pass, ${ROUNDS} rounds on a fresh ${NODES}-node / ${GUESTS}-guest cluster (the guests of ${EMPTY_NODES} nodes moved ` +
      `onto the others; simulated time ${SPEED}x, so migrations last ${SPEED}x less than the same copies would on real nodes)`,
    rounds,
  );
  const pick = (key: string) => median(rounds.map((r) => Number(r[key])));
  printTable('Medians', [
    {
      'first sync s': pick('first sync s'),
      'plan s': pick('plan s'),
      'pass to last migration s': pick('pass to last migration s'),
      'raw migrations back s (baseline)': pick('raw migrations back s (baseline)'),
    },
  ]);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-bench-proxmox-'));
  try {
    await connectorTimes();
    await serviceBalancing(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
