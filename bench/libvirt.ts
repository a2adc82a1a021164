// Issue target ("Real hypervisors I"): on 3 real libvirt hosts and at least 12 guests, the connector's discovery and
// collection times, the time from a skewed start to balanced with real live migrations, and each migration's duration
// and downtime as libvirt reports them. Baselines in the same run: the raw virsh calls the connector makes, timed
// alone; the imbalance of the skewed start, which is what the cluster keeps if nothing moves; and plain `virsh migrate`
// of the same guests. Skew and balance are repeated (BENCH_LIBVIRT_ROUNDS; in between, the guests go back to h0 by plain
// virsh migrate, the last baseline) so that the figures are medians.
// Needs root (test/fixtures/libvirt-hosts.sh starts libvirtd in namespaces on this machine, with TCG guests).
// Parts in bench/libvirt/: common.ts (sizes, helpers), connector-times.ts (part 1), skew.ts and service.ts (parts 2, 3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootGuests, GuestSpec, hostsDown, hostsUp } from './lib/libvirt-hosts';
import { median, printTable } from './lib/stats';
import { BOOT_CONCURRENCY, BUSY, BUSY_DIRTY_MIB, GUEST_MIB, GUESTS, HOSTS, seconds } from './libvirt/common';
import { connectorTimes } from './libvirt/connector-times';
import { serviceBalancing } from './libvirt/service';

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:libvirt needs root: it starts libvirt hosts in network namespaces');
  if (GUESTS < BUSY) throw new Error(`BENCH_LIBVIRT_GUESTS must be at least ${BUSY}`);
  const runStarted = performance.now();
  const state = mkdtempSync(join(tmpdir(), 'drs-bench-libvirt-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-bench-libvirt-db-'));
  // Idle guests first: each busy one already running would slow the boots after it.
  const guests: GuestSpec[] = Array.from({ length: GUESTS }, (_, i) =>
    i < GUESTS - BUSY
      ? { name: `idle${i + 1}`, hostIndex: 0, memoryMib: GUEST_MIB, dirtyMib: 0 }
      : { name: `busy${i - (GUESTS - BUSY) + 1}`, hostIndex: 0, memoryMib: GUEST_MIB, dirtyMib: BUSY_DIRTY_MIB },
  );
  let ok = false;
  // Ctrl-C skips the finally below: the hosts and their guests would keep running.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: taking the libvirt hosts down (logs kept in ${state})`);
      void hostsDown(state).finally(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  try {
    let t = performance.now();
    const hosts = await hostsUp(state, HOSTS);
    const upSeconds = seconds(t);
    t = performance.now();
    const batches = await bootGuests(state, guests, BOOT_CONCURRENCY);
    printTable('Setup (seconds)', [
      {
        'hosts up': upSeconds,
        [`${GUESTS} guests booted, ${BOOT_CONCURRENCY} at a time`]: seconds(t),
        'median batch': median(batches),
      },
    ]);
    await connectorTimes(hosts);
    await serviceBalancing(hosts, guests, dataDir);
    ok = true;
  } finally {
    await hostsDown(state).catch((error: Error) => console.error(`down: ${error.message}`));
    rmSync(dataDir, { recursive: true, force: true });
    if (ok) rmSync(state, { recursive: true, force: true });
    else console.error(`libvirt logs and consoles kept in ${state}`);
    console.log(`\nRun time: ${seconds(runStarted).toFixed(0)} s`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
