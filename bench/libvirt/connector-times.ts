// Part 1 of the libvirt benchmark: the connector called directly, against the same virsh calls made raw.
import { loadavg } from 'node:os';
import { LibvirtConnector } from '../../src/connectors/libvirt/libvirt-connector';
import { FixtureHost } from '../lib/libvirt-hosts';
import { median, printTable } from '../lib/stats';
import { DIRTY_RATE_EVERY, exec, HOSTS, RUNS, sleep, timed } from './common';

// The calls LibvirtConnector makes (src/connectors/libvirt/libvirt-connector.ts), for the raw baseline.
const STATS = ['domstats', '--raw', '--state', '--cpu-total', '--vcpu', '--balloon'];

export function virsh(uri: string, args: string[]): Promise<string> {
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

/** Part 1: the connector called directly, each call paired with the same virsh calls made raw (order alternating). */
export async function connectorTimes(hosts: FixtureHost[]): Promise<void> {
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
