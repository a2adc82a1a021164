// Parts 2 and 3 of the libvirt benchmark: the real service reads the hosts through the connector and balances them
// with fully automated passes.
import { join } from 'node:path';
import { call, ChildApp, killApp, startApp } from '../../test/helpers/child-app';
import { FixtureHost, GuestSpec, runningDomains } from '../lib/libvirt-hosts';
import { median, printTable } from '../lib/stats';
import { BALANCE_TIMEOUT_MS, BUSY, LOOP_SECONDS, MAX_PASSES, ROUNDS, SAMPLES_BEFORE_PASS, seconds, until } from './common';
import { Balance, Migration, Pass, PlainMigration, Round, skewAgain } from './skew';

/** Parts 2 and 3: the real service reads the hosts through the connector and balances them with fully automated passes. */
export async function serviceBalancing(hosts: FixtureHost[], guests: GuestSpec[], dataDir: string): Promise<void> {
  let app: ChildApp | undefined;
  try {
    app = await startApp({
      DATABASE_PATH: join(dataDir, 'drs.sqlite'),
      DEMO_ENABLED: false,
      RATE_LIMIT_MAX: 0,
      // Passes are asked for below, one after the other's migrations: the run does not wait on the pass interval.
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
    const cluster = await api('POST', '/clusters', { name: 'kvm-bench' });
    const cid: string = cluster.id;
    const configured = performance.now();
    await api('PUT', `/clusters/${cid}/connector`, {
      kind: 'libvirt',
      settings: { hosts: hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })) },
    });
    const vms = await until('the first sync', 60_000, async () => {
      const page = await api('GET', `/vms?clusterId=${cid}&limit=100`);
      return page.total === guests.length ? (page.items as { id: string; name: string; hostId: string }[]) : null;
    });
    const firstSync = seconds(configured);
    const hostList = (await api('GET', `/hosts?clusterId=${cid}&limit=100`)).items as { id: string; name: string }[];
    const hostName = new Map(hostList.map((h) => [h.id, h.name]));
    const vmName = new Map(vms.map((vm) => [vm.id, vm.name]));
    await until(`${SAMPLES_BEFORE_PASS} samples of every guest`, 120_000, async () => {
      for (const vm of vms) {
        if ((await api('GET', `/vms/${vm.id}/samples`)).points.length < SAMPLES_BEFORE_PASS) return null;
      }
      return true;
    });
    // Cooldown 0: a later round may move the guests an earlier round moved.
    await api('PUT', `/clusters/${cid}/policy`, { automationLevel: 'fully-automated', cooldownSeconds: 0 });
    const rounds: Round[] = [];
    const plain: PlainMigration[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      if (round > 1)
        plain.push(...(await skewAgain(hosts, async () => (await api('GET', `/vms?clusterId=${cid}&limit=100`)).items, hostName)));
      const before: Balance = await api('GET', `/clusters/${cid}/balance`);
      const known = new Set(((await api('GET', `/migrations?clusterId=${cid}&limit=100`)).items as Migration[]).map((m) => m.id));
      const started = performance.now();
      const passes: Pass[] = [];
      let after: Balance = before;
      while (passes.length < MAX_PASSES) {
        passes.push(await api('POST', `/clusters/${cid}/passes`));
        await until(
          'the migrations to end',
          BALANCE_TIMEOUT_MS,
          async () => (await api('GET', `/migrations?clusterId=${cid}&state=queued,running&limit=1`)).total === 0,
          500,
        );
        after = await api('GET', `/clusters/${cid}/balance`);
        if (after.balanced || passes[passes.length - 1].movesApplied === 0) break;
      }
      const took = seconds(started);
      const moved = ((await api('GET', `/migrations?clusterId=${cid}&limit=100`)).items as Migration[]).filter((m) => !known.has(m.id));
      rounds.push({ before, after, passes, migrations: moved, seconds: took });
    }
    const migrations = rounds.flatMap((r) => r.migrations);

    printTable(
      `Skewed start to balanced, ${ROUNDS} rounds: every guest on h0 (${BUSY} busy, ${guests.length - BUSY} idle), ` +
        'fully automated passes (threshold 3); before each later round the moved guests go back to h0 by plain virsh migrate',
      [
        ...rounds.map((r, i) => ({
          round: String(i + 1),
          'I if nothing moved (baseline)': r.before.imbalance,
          'I after': r.after.imbalance,
          target: r.after.target,
          'gap before': r.before.maxMinGap,
          'gap after': r.after.maxMinGap,
          balanced: String(r.after.balanced),
          passes: r.passes.length,
          migrations: r.migrations.length,
          seconds: r.seconds,
          'x baseline': r.after.imbalance / r.before.imbalance,
        })),
        {
          round: 'median',
          'I if nothing moved (baseline)': median(rounds.map((r) => r.before.imbalance)),
          'I after': median(rounds.map((r) => r.after.imbalance)),
          target: rounds[0].after.target,
          'gap before': median(rounds.map((r) => r.before.maxMinGap)),
          'gap after': median(rounds.map((r) => r.after.maxMinGap)),
          balanced: '',
          passes: median(rounds.map((r) => r.passes.length)),
          migrations: median(rounds.map((r) => r.migrations.length)),
          seconds: median(rounds.map((r) => r.seconds)),
          'x baseline': median(rounds.map((r) => r.after.imbalance / r.before.imbalance)),
        },
      ],
    );
    printTable(
      'Passes',
      rounds.flatMap((r, i) =>
        r.passes.map((p, j) => ({
          round: i + 1,
          pass: j + 1,
          status: p.status,
          'I before': p.imbalanceBefore ?? '-',
          'I predicted': p.imbalanceAfter ?? '-',
          recommended: p.movesRecommended,
          applied: p.movesApplied,
          notes: p.notes || '-',
        })),
      ),
    );
    const cpu = (b: Balance) => b.hosts.map((h) => `${h.hostName} ${(h.cpu * 100).toFixed(0)}%`).join(', ');
    for (const [i, r] of rounds.entries()) console.log(`Round ${i + 1} CPU before: ${cpu(r.before)}; after: ${cpu(r.after)}.`);
    console.log(`First sync ${firstSync.toFixed(1)} s after the PUT.`);

    // The engine's time for a migration (claimed to recorded: domuuid, the virsh client connecting, the job, asking both
    // hosts where the domain is, reading the completed job, the write) against libvirt's own figure for the job.
    const wall = (m: Migration) => (m.startedAt && m.finishedAt ? (Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000 : NaN);
    const ordered = [...migrations].sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
    const libvirtSeconds = (m: Migration) => m.durationSeconds ?? NaN;
    printTable('Each migration: duration and downtime as libvirt reports them (domjobinfo --completed), and the engine wall time', [
      ...ordered.map((m) => ({
        vm: vmName.get(m.vmId) ?? m.vmId,
        from: hostName.get(m.sourceHostId) ?? '?',
        to: hostName.get(m.targetHostId) ?? '?',
        driver: m.driver,
        state: m.state,
        attempts: m.attempts,
        'libvirt duration s': m.durationSeconds ?? '-',
        'libvirt downtime ms': m.downtimeMs ?? '-',
        'engine wall s': wall(m),
        'wall x libvirt': wall(m) / libvirtSeconds(m),
      })),
      ...(ordered.length > 0
        ? [
            {
              vm: 'median',
              from: '',
              to: '',
              driver: '',
              state: '',
              attempts: '',
              'libvirt duration s': median(ordered.map(libvirtSeconds)),
              'libvirt downtime ms': median(ordered.map((m) => m.downtimeMs ?? NaN)),
              'engine wall s': median(ordered.map(wall)),
              'wall x libvirt': median(ordered.map((m) => wall(m) / libvirtSeconds(m))),
            },
          ]
        : []),
    ]);

    if (plain.length > 0) {
      printTable('Migrations, medians: the engine through the connector against plain virsh migrate (the guests sent back to h0)', [
        {
          path: 'plain virsh migrate --p2p (baseline)',
          migrations: plain.length,
          'wall s': median(plain.map((m) => m.wallSeconds)),
          'libvirt duration s': median(plain.map((m) => m.libvirtSeconds)),
          'libvirt downtime ms': median(plain.map((m) => m.downtimeMs)),
          'x baseline (wall)': 1,
        },
        {
          path: 'engine: queue, LibvirtConnector driver, checks',
          migrations: ordered.length,
          'wall s': median(ordered.map(wall)),
          'libvirt duration s': median(ordered.map(libvirtSeconds)),
          'libvirt downtime ms': median(ordered.map((m) => m.downtimeMs ?? NaN)),
          'x baseline (wall)': median(ordered.map(wall)) / median(plain.map((m) => m.wallSeconds)),
        },
      ]);
    }

    // The service's view after a sync that began once the last migration had ended (lastSyncAt is when a sync
    // ended, so the second to end from now), against virsh on every host.
    let syncedAt = Date.now();
    for (let sync = 0; sync < 2; sync++) {
      syncedAt = await until('a sync after the migrations', 60_000, async () => {
        const { lastSyncAt } = (await api('GET', `/clusters/${cid}/connector`)) as { lastSyncAt: number | null };
        return lastSyncAt !== null && lastSyncAt > syncedAt ? lastSyncAt : null;
      });
    }
    const inventory = (await api('GET', `/vms?clusterId=${cid}&limit=100`)).items as { name: string; hostId: string; powerState: string }[];
    const agreement = await Promise.all(
      hosts.map(async (h) => {
        const virshSays = await runningDomains(h.uri);
        const serviceSays = inventory
          .filter((vm) => hostName.get(vm.hostId) === h.name && vm.powerState === 'poweredOn')
          .map((vm) => vm.name)
          .sort();
        return {
          host: h.name,
          'virsh list': virshSays.join(' ') || '-',
          service: serviceSays.join(' ') || '-',
          agree: String(virshSays.join() === serviceSays.join()),
        };
      }),
    );
    printTable('Where each guest runs: virsh list --state-running on each host against the service inventory', agreement);

    const failed = migrations.filter((m) => m.state !== 'succeeded');
    const notLibvirt = migrations.filter((m) => m.driver !== 'libvirt');
    const agrees = agreement.every((a) => a.agree === 'true');
    const unbalanced = rounds.filter((r) => !r.after.balanced).length;
    const medianOf = (f: (r: Round) => number) => median(rounds.map(f));
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    console.log(
      `\n${verdict(unbalanced === 0)}: ${ROUNDS - unbalanced} of ${ROUNDS} rounds balanced; median ${medianOf((r) => r.seconds).toFixed(1)} s ` +
        `from the skewed start, I ${medianOf((r) => r.before.imbalance).toFixed(3)} → ${medianOf((r) => r.after.imbalance).toFixed(3)} ` +
        `(target ${rounds[0].after.target.toFixed(3)}), ${migrations.length} migrations in all`,
    );
    const total = migrations.length;
    console.log(`${verdict(total > 0 && failed.length === 0)}: ${total - failed.length} of ${total} migrations succeeded`);
    console.log(
      `${verdict(total > 0 && notLibvirt.length === 0)}: ${total - notLibvirt.length} of ${total} migrations ran through libvirt` +
        (notLibvirt.length ? ` (drivers: ${[...new Set(notLibvirt.map((m) => m.driver))].join(', ')})` : ''),
    );
    console.log(
      `${agrees ? 'PASS' : 'FAIL'}: virsh list on each host ${agrees ? 'agrees' : 'does not agree'} with the service's inventory`,
    );
  } finally {
    if (app) await killApp(app);
  }
}
