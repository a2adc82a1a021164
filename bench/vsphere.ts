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
// Parts in bench/vsphere/: common.ts (sizes, helpers), direct.ts (part 1), service.ts (parts 2 and 3).
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startVcsim, type Vcsim } from '../test/helpers/vcsim';
import { printTable } from './lib/stats';
import { HOSTS, LOOP_SECONDS, ms, REPEATS, timed, VMS } from './vsphere/common';
import { direct } from './vsphere/direct';
import { service } from './vsphere/service';

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
