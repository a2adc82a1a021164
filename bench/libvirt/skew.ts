// The libvirt benchmark's service answers (balance, migrations, passes), its rounds, and the plain virsh migrations
// that skew the cluster again between rounds.
import { FixtureHost, runningDomains } from '../lib/libvirt-hosts';
import { seconds, until } from './common';
import { virsh } from './connector-times';

export interface Balance {
  imbalance: number;
  target: number;
  balanced: boolean;
  maxMinGap: number;
  gapLimit: number | null;
  hosts: { hostName: string; cpu: number; memory: number }[];
}

export interface Migration {
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

export interface Pass {
  status: string;
  imbalanceBefore: number | null;
  imbalanceAfter: number | null;
  movesRecommended: number;
  movesApplied: number;
  notes: string;
}

export interface Round {
  before: Balance;
  after: Balance;
  passes: Pass[];
  migrations: Migration[];
  seconds: number;
}

export interface PlainMigration {
  name: string;
  wallSeconds: number;
  libvirtSeconds: number;
  downtimeMs: number;
}

/**
 * Moves every guest not on h0 back there with plain virsh (as an operator would; also the baseline of the engine's
 * migrations), then waits until the service's inventory shows it.
 */
export async function skewAgain(
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
