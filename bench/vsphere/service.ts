// Parts 2 and 3 of the vSphere benchmark: the real service in a child process, fed by the connector and, as the
// baseline, by the manual API; manual passes and one fully automated pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inventoryOf } from '../../src/connectors/discovery-inventory';
import { call, ChildApp, killApp, openFile, startApp } from '../../test/helpers/child-app';
import { type Vcsim } from '../../test/helpers/vcsim';
import { median, printTable } from '../lib/stats';
import { HOSTS, LOOP_SECONDS, ms, RUNS, SETTLE_TIMEOUT_MS, timed, until, VMS } from './common';
import { Direct } from './direct';

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
export async function service(vcsim: Vcsim, clusterName: string, found: Direct): Promise<Record<string, string | number>[][]> {
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
