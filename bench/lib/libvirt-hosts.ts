// Real libvirt hosts for a benchmark: test/fixtures/libvirt-hosts.sh (libvirtd in network and mount
// namespaces on this machine, TCG guests), driven from TypeScript. Needs root.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FIXTURE = join(__dirname, '..', '..', 'test', 'fixtures', 'libvirt-hosts.sh');

export interface FixtureHost {
  name: string;
  address: string;
  uri: string;
}

export interface GuestSpec {
  name: string;
  hostIndex: number;
  memoryMib: number;
  /** MiB the guest rewrites in a loop (CPU and dirty pages); 0 for a guest that only sleeps. */
  dirtyMib: number;
}

export function fixture(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run('bash', [FIXTURE, ...args], { maxBuffer: 1 << 20, env: { ...process.env, ...env } });
}

export async function hostsUp(state: string, count: number): Promise<FixtureHost[]> {
  await fixture(['install']);
  const up = await fixture(['up', state, String(count)]);
  return up.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [name, address, uri] = line.split(' ');
      return { name, address, uri };
    });
}

/**
 * Starts the guests `concurrency` at a time, each batch waiting until its guests run their loop: a kernel
 * booting under TCG takes a core for ~15 s, and a dozen at once on two cores took minutes and starved the
 * machine. Returns the seconds each batch took.
 */
export async function bootGuests(state: string, guests: GuestSpec[], concurrency: number, timeoutSeconds = 300): Promise<number[]> {
  const batches: number[] = [];
  for (let i = 0; i < guests.length; i += concurrency) {
    const started = performance.now();
    await Promise.all(
      guests.slice(i, i + concurrency).map(async (guest) => {
        await fixture(['guest', state, String(guest.hostIndex), guest.name, String(guest.memoryMib)], {
          GUEST_DIRTY_MB: String(guest.dirtyMib),
        });
        await fixture(['wait-guest', state, guest.name, String(timeoutSeconds)]);
      }),
    );
    batches.push((performance.now() - started) / 1000);
  }
  return batches;
}

export async function hostsDown(state: string): Promise<void> {
  await fixture(['down', state]);
}

/** `virsh list` on a host, read without the connector's parsers: the names of the running domains. */
export async function runningDomains(uri: string): Promise<string[]> {
  const { stdout } = await run('virsh', ['-q', '-c', uri, 'list', '--state-running', '--name'], { env: { ...process.env, LC_ALL: 'C' } });
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .sort();
}
