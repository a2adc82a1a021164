// Issue target ("Real hypervisors I"): on 3 real libvirt hosts and at least 12 guests, the connector's discovery and
// collection times, the time from a skewed start to balanced with real live migrations, and each migration's duration
// and downtime as libvirt reports them. Baselines in the same run: the raw virsh calls the connector makes, timed
// alone; the imbalance of the skewed start, which is what the cluster keeps if nothing moves; and plain `virsh migrate`
// of the same guests. Skew and balance are repeated (BENCH_LIBVIRT_ROUNDS; in between, the guests go back to h0 by plain
// virsh migrate, the last baseline) so that the figures are medians.
// Needs root (test/fixtures/libvirt-hosts.sh starts libvirtd in namespaces on this machine, with TCG guests).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LibvirtConnector } from '../src/connectors/libvirt/libvirt-connector';
import { call, ChildApp, killApp, startApp } from '../test/helpers/child-app';
import { bootGuests, FixtureHost, GuestSpec, hostsDown, hostsUp, runningDomains } from './lib/libvirt-hosts';
import { median, printTable } from './lib/stats';

const HOSTS = 3;
const GUESTS = Number(process.env.BENCH_LIBVIRT_GUESTS ?? 12);
const BUSY = Number(process.env.BENCH_LIBVIRT_BUSY ?? 3);
// The Debian cloud kernel does not boot in 64 MiB under TCG here (no console output after minutes); 96 MiB boots in ~14 s.
const GUEST_MIB = 96;
const BUSY_DIRTY_MIB = 16;
const BOOT_CONCURRENCY = Number(process.env.BENCH_LIBVIRT_BOOT_CONCURRENCY ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/** The connector asks libvirt to measure dirty rates every third collection (its default): RUNS covers both kinds. */
const DIRTY_RATE_EVERY = 3;
const LOOP_SECONDS = 5;
const SAMPLES_BEFORE_PASS = 4;
const BALANCE_TIMEOUT_MS = 10 * 60_000;
const MAX_PASSES = 6;
const ROUNDS = Number(process.env.BENCH_LIBVIRT_ROUNDS ?? 3);

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => (performance.now() - since) / 1000;

// The calls LibvirtConnector makes (src/connectors/libvirt/libvirt-connector.ts), for the raw baseline.
const STATS = ['domstats', '--raw', '--state', '--cpu-total', '--vcpu', '--balloon'];

function virsh(uri: string, args: string[]): Promise<string> {
  return exec('virsh', ['-q', '-c', uri, ...args], {
    env: { PATH: process.env.PATH, LC_ALL: 'C' },
    maxBuffer: 16 << 20,
    timeout: 120_000,
  }).then((r) => r.stdout);
}

/** Discovery's calls on every host at once, nothing parsed: nodeinfo, then the domain list and the stats together. */
async function rawDiscovery(hosts: FixtureHost[]): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      await virsh(h.uri, ['nodeinfo']);
      await Promise.all([virsh(h.uri, ['list', '--all', '--uuid', '--name']), virsh(h.uri, STATS)]);
    }),
  );
}

/** A collection's calls: the stats with the dirty rate, and when `measure`, one dirty-rate request per running guest, 4 at once per host. */
async function rawCollection(hosts: FixtureHost[], measure: boolean): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      const text = await virsh(h.uri, [...STATS, '--dirtyrate']);
      if (!measure) return;
      // Blocks of "Domain: 'name'" then indented key=value lines; state.state=1 is running.
      const queue = text
        .split(/^Domain: /m)
        .filter((block) => /^\s+state\.state=1$/m.test(block))
        .map((block) => /^'([^']+)'/.exec(block)![1]);
      const worker = async () => {
        for (let name = queue.shift(); name; name = queue.shift()) {
          await virsh(h.uri, ['domdirtyrate-calc', name, '--seconds', '1']).catch(() => undefined);
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
    }),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Part 1: the connector called directly, each call paired with the same virsh calls made raw (order alternating). */
async function connectorTimes(hosts: FixtureHost[]): Promise<void> {
  const connector = new LibvirtConnector(
    hosts.map(({ name, uri, address }) => ({ name, uri, migrationAddress: address })),
    { dirtyRateEvery: DIRTY_RATE_EVERY },
  );
  const discover = { connector: [] as number[], raw: [] as number[] };
  const collect = { connector: [] as number[], raw: [] as number[] };
  const measuring = { connector: [] as number[], raw: [] as number[] };
  let guests = 0;
  // The machine's 2 cores also run the guests (and whatever else runs here): each virsh call waits its turn.
  const load = loadavg()[0].toFixed(1);
  for (let run = 0; run < RUNS; run++) {
    const pair: [keyof typeof discover, () => Promise<unknown>][] = [
      [
        'connector',
        async () => {
          const d = await connector.discover();
          if (d.unreachable.length > 0) throw new Error(`discovery: ${JSON.stringify(d.unreachable)}`);
          guests = d.vms.length;
        },
      ],
      ['raw', () => rawDiscovery(hosts)],
    ];
    for (const [who, fn] of run % 2 ? pair.reverse() : pair) discover[who].push(await timed(fn));
  }
  for (let run = 0; run < RUNS; run++) {
    // The connector's round `run` asks for measurements when run % DIRTY_RATE_EVERY == 0; the raw side does the same.
    const measure = run % DIRTY_RATE_EVERY === 0;
    const into = measure ? measuring : collect;
    const pair: [keyof typeof collect, () => Promise<unknown>][] = [
      [
        'connector',
        async () => {
          const c = await connector.collect();
          if (c.unreachable.length > 0) throw new Error(`collection: ${JSON.stringify(c.unreachable)}`);
        },
      ],
      ['raw', () => rawCollection(hosts, measure)],
    ];
    for (const [who, fn] of run % 2 ? pair.reverse() : pair) into[who].push(await timed(fn));
    // libvirt measures for 1 s in the background: let it finish before the next round asks again.
    await sleep(1500);
  }
  await connector.close();
  const row = (what: string, times: { connector: number[]; raw: number[] }) => [
    {
      call: `${what}: raw virsh (baseline)`,
      runs: times.raw.length,
      'median ms': median(times.raw),
      'max ms': Math.max(...times.raw),
      'x baseline': 1,
    },
    {
      call: `${what}: LibvirtConnector`,
      runs: times.connector.length,
      'median ms': median(times.connector),
      'max ms': Math.max(...times.connector),
      'x baseline': median(times.connector) / median(times.raw),
    },
  ];
  printTable(`Connector calls: ${HOSTS} hosts, ${guests} guests, all hosts asked at once, load average ${load} at the start`, [
    ...row('discover', discover),
    ...row('collect', collect),
    ...row('collect + dirty-rate requests', measuring),
  ]);
}

interface Balance {
  imbalance: number;
  target: number;
  balanced: boolean;
  maxMinGap: number;
  gapLimit: number | null;
  hosts: { hostName: string; cpu: number; memory: number }[];
}

interface Migration {
  id: string;
  vmId: string;
  sourceHostId: string;
  targetHostId: string;
  state: string;
  driver: string;
  attempts: number;
  durationSeconds: number | null;
  downtimeMs: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

interface Pass {
  status: string;
  imbalanceBefore: number | null;
  imbalanceAfter: number | null;
  movesRecommended: number;
  movesApplied: number;
  notes: string;
}

interface Round {
  before: Balance;
  after: Balance;
  passes: Pass[];
  migrations: Migration[];
  seconds: number;
}

interface PlainMigration {
  name: string;
  wallSeconds: number;
  libvirtSeconds: number;
  downtimeMs: number;
}

/**
 * Moves every guest not on h0 back there with plain virsh (as an operator would; also the baseline of the engine's
 * migrations), then waits until the service's inventory shows it.
 */
async function skewAgain(
  hosts: FixtureHost[],
  inventory: () => Promise<{ name: string; hostId: string }[]>,
  hostName: Map<string, string>,
): Promise<PlainMigration[]> {
  const [home, ...others] = hosts;
  const done: PlainMigration[] = [];
  for (const host of others) {
    for (const name of await runningDomains(host.uri)) {
      const started = performance.now();
      await virsh(host.uri, [
        'migrate',
        '--live',
        '--p2p',
        '--persistent',
        '--undefinesource',
        name,
        home.uri,
        '--migrateuri',
        `tcp://${home.address}`,
      ]);
      const wallSeconds = seconds(started);
      // The completed job as the target keeps it ("Time elapsed:     5215         ms"; see src/connectors/libvirt/fixtures).
      const job = await virsh(home.uri, ['domjobinfo', '--completed', name]);
      const ms = (label: string) => Number(new RegExp(`^${label}:\\s+(\\d+)\\s+ms\\s*$`, 'm').exec(job)?.[1] ?? NaN);
      done.push({ name, wallSeconds, libvirtSeconds: ms('Time elapsed') / 1000, downtimeMs: ms('Total downtime') });
    }
  }
  await until('the service to see every guest on h0 again', 60_000, async () =>
    (await inventory()).every((vm) => hostName.get(vm.hostId) === home.name) ? true : null,
  );
  return done;
}

/** Parts 2 and 3: the real service reads the hosts through the connector and balances them with fully automated passes. */
async function serviceBalancing(hosts: FixtureHost[], guests: GuestSpec[], dataDir: string): Promise<void> {
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

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null>, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

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
