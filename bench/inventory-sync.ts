// Issue target: the 10,000-VM / 100-host inventory sync through HTTP has a median under 5 s.
// Baseline in the same run: the same rows written by raw batched INSERTs into a SQLite file (the floor).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { generateInventory } from '../test/helpers/inventory-generator';
import { bootApp, call } from './lib/boot';
import { median, printTable } from './lib/stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HOSTS = 100;
const VMS = 10_000;
const TARGET_SECONDS = 5;

async function timeSync(baseUrl: string, clusterId: string, inventory: unknown): Promise<number> {
  const started = performance.now();
  const res = await call(baseUrl, 'PUT', `/api/v1/clusters/${clusterId}/inventory`, inventory);
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 200) throw new Error(`sync answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return seconds;
}

/** The same 100 hosts and 10,000 VMs inserted with raw multi-row INSERTs in one transaction. */
async function rawInsertSeconds(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'drs-bench-raw-'));
  const source = new DataSource(dataSourceOptions({ path: join(dir, 'raw.sqlite'), busyTimeoutMs: 5000 }));
  await source.initialize();
  await source.runMigrations();
  try {
    const { hosts, vms } = generateInventory(HOSTS, VMS);
    const clusterId = randomUUID();
    await source.query(`INSERT INTO clusters (id, version, name) VALUES (?, 1, 'raw')`, [clusterId]);
    const hostIds = new Map(hosts.map((h) => [h.name, randomUUID()]));
    const started = performance.now();
    await source.transaction(async (m) => {
      const hostRows = hosts.map((h) => [hostIds.get(h.name), 1, clusterId, h.name, h.cpuCores, h.cpuMhz, h.memoryMib, h.migrationGbps]);
      await m.query(
        `INSERT INTO hosts (id, version, clusterId, name, cpuCores, cpuMhz, memoryMib, migrationGbps) VALUES ${hostRows.map(() => '(?,?,?,?,?,?,?,?)').join(',')}`,
        hostRows.flat(),
      );
      for (let i = 0; i < vms.length; i += 500) {
        const chunk = vms
          .slice(i, i + 500)
          .map((v) => [randomUUID(), 1, clusterId, hostIds.get(v.hostName), v.name, v.vcpus, v.memoryMib, v.powerState]);
        await m.query(
          `INSERT INTO vms (id, version, clusterId, hostId, name, vcpus, memoryMib, powerState) VALUES ${chunk.map(() => '(?,?,?,?,?,?,?,?)').join(',')}`,
          chunk.flat(),
        );
      }
    });
    return (performance.now() - started) / 1000;
  } finally {
    await source.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const bench = await bootApp();
  const created: number[] = [];
  const unchanged: number[] = [];
  const changed: number[] = [];
  const raw: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const cluster = await call(bench.baseUrl, 'POST', '/api/v1/clusters', { name: `bench-${run}` });
      const inventory = generateInventory(HOSTS, VMS);
      created.push(await timeSync(bench.baseUrl, cluster.body.id, inventory));
      unchanged.push(await timeSync(bench.baseUrl, cluster.body.id, inventory));
      // A tenth of the VMs report a new host or size, as after a busy hour.
      const touched = {
        ...inventory,
        vms: inventory.vms.map((v, i) =>
          i % 10 === 0 ? { ...v, hostName: inventory.hosts[(i + 1) % HOSTS].name, memoryMib: v.memoryMib + 1024 } : v,
        ),
      };
      changed.push(await timeSync(bench.baseUrl, cluster.body.id, touched));
      raw.push(await rawInsertSeconds());
    }
  } finally {
    await bench.close();
  }
  const floor = median(raw);
  printTable(`Inventory sync through HTTP: ${HOSTS} hosts, ${VMS.toLocaleString('en-US')} VMs, ${RUNS} runs (seconds)`, [
    { case: 'raw batched INSERT (baseline)', median: floor, min: Math.min(...raw), max: Math.max(...raw), 'x baseline': 1 },
    {
      case: 'sync: all new',
      median: median(created),
      min: Math.min(...created),
      max: Math.max(...created),
      'x baseline': median(created) / floor,
    },
    {
      case: 'sync: unchanged',
      median: median(unchanged),
      min: Math.min(...unchanged),
      max: Math.max(...unchanged),
      'x baseline': median(unchanged) / floor,
    },
    {
      case: 'sync: 10% changed',
      median: median(changed),
      min: Math.min(...changed),
      max: Math.max(...changed),
      'x baseline': median(changed) / floor,
    },
  ]);
  const worst = Math.max(median(created), median(unchanged), median(changed));
  console.log(`\n${worst < TARGET_SECONDS ? 'PASS' : 'FAIL'}: slowest median ${worst.toFixed(2)} s (target < ${TARGET_SECONDS} s)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
