// A real migration command outlives the service: killed (SIGKILL) or stopped (SIGTERM) while a
// command migration runs, the restarted service adopts the command it had started instead of
// launching a second one, waits for it, and only then asks where the VM is. The stand-in command
// (test/fixtures/fake-migrate.sh move) logs each launch, moves the VM when it ends, and records
// the signal that stopped it; the reconcile command reports where the VM is, as virsh would.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { call, ChildApp, killApp, query, sleep, startApp } from './helpers/child-app';
import { makeTempDir, removeTempDir } from './helpers/test-app';

jest.setTimeout(180_000);

const FAKE = resolve(__dirname, 'fixtures', 'fake-migrate.sh');
const API = '/api/v1';

/** A process that exists and has not exited (a zombie waiting for its reaper has). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Pids of live processes in the process group. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid && !['Z', 'X'].includes(fields[0]);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Scenario {
  dir: string;
  databasePath: string;
  launches: string;
  location: string;
  signalFile: string;
  env: Record<string, unknown>;
}

/** `seconds`: how long the command's move takes; long enough that a restart on a loaded machine finds it still running. */
function scenario(seconds: number, extra: Record<string, unknown> = {}): Scenario {
  const dir = makeTempDir();
  const s = {
    dir,
    databasePath: join(dir, 'drs.sqlite'),
    launches: join(dir, 'launches.log'),
    location: join(dir, 'location'),
    signalFile: join(dir, 'signal'),
  };
  return {
    ...s,
    env: {
      DATABASE_PATH: s.databasePath,
      DEMO_ENABLED: false,
      SCHEDULER_ENABLED: false,
      RATE_LIMIT_MAX: 0,
      MIGRATION_DRIVER: 'command',
      MIGRATION_COMMAND: JSON.stringify([FAKE, 'move', s.launches, String(seconds), s.location, '{targetHost}', s.signalFile]),
      // Where the VM is: the target once the command finished its move, the source before.
      MIGRATION_RECONCILE_COMMAND: JSON.stringify([FAKE, 'where', s.location, '{sourceHost}']),
      MIGRATION_MAX_ATTEMPTS: 3,
      MIGRATION_RETRY_BACKOFF_SECONDS: 0.1,
      ...extra,
    },
  };
}

const launchLines = (s: Scenario) =>
  existsSync(s.launches)
    ? readFileSync(s.launches, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
const firstPid = (s: Scenario) => Number(launchLines(s)[0].split(' ')[0]);

/** A cluster with hosts kvm-a and kvm-b, a VM on kvm-a, and its migration to kvm-b, running with its command's identity stored. */
async function startMigration(app: ChildApp, s: Scenario) {
  const cluster = (await call(app, 'POST', `${API}/clusters`, { name: 'c1' })).body;
  const hosts = ['kvm-a', 'kvm-b'].map((name) => ({ name, cpuCores: 32, cpuMhz: 76800, memoryMib: 262144 }));
  const sync = await call(app, 'PUT', `${API}/clusters/${cluster.id}/inventory`, {
    hosts,
    vms: [{ name: 'guest-1', hostName: 'kvm-a', vcpus: 2, memoryMib: 4096 }],
  });
  expect(sync.status).toBe(200);
  const hostIds = Object.fromEntries(
    (await call(app, 'GET', `${API}/hosts?clusterId=${cluster.id}`)).body.items.map((h: { name: string; id: string }) => [h.name, h.id]),
  ) as Record<string, string>;
  const vm = (await call(app, 'GET', `${API}/vms?clusterId=${cluster.id}`)).body.items[0];
  const created = await call(app, 'POST', `${API}/migrations`, { vmId: vm.id, targetHostId: hostIds['kvm-b'] });
  expect(created.status).toBe(201);
  const migrationId: string = created.body.id;
  await waitFor('the command to start', () => (launchLines(s).length > 0 ? true : undefined));
  const [row] = await waitFor('the identity to be stored', async () => {
    const rows = await query<{ handle: string | null }>(s.databasePath, 'SELECT handle FROM live_migrations WHERE id = ?', [migrationId]);
    return rows[0]?.handle ? rows : undefined;
  });
  return { clusterId: cluster.id as string, hostIds, vmId: vm.id as string, migrationId, handle: JSON.parse(row.handle!) };
}

async function waitForEnd(app: ChildApp, migrationId: string, timeoutMs = 90_000) {
  return waitFor(
    'the migration to end',
    async () => {
      const m = (await call(app, 'GET', `${API}/migrations/${migrationId}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(m.state) ? m : undefined;
    },
    timeoutMs,
  );
}

describe('a command migration across a crash or a stop of the service', () => {
  let app: ChildApp | undefined;
  const dirs: string[] = [];
  const pids: number[] = [];

  afterEach(async () => {
    if (app) await killApp(app);
    app = undefined;
  });
  afterAll(() => {
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const dir of dirs) removeTempDir(dir);
  });

  it('after SIGKILL, launches no second command, ends the migration once the first exits, and moves the VM once', async () => {
    const s = scenario(16);
    dirs.push(s.dir);
    app = await startApp(s.env);
    const { hostIds, vmId, migrationId, handle } = await startMigration(app, s);
    const pid = firstPid(s);
    pids.push(pid);
    expect(handle).toMatchObject({ kind: 'process', pid, pgid: pid });
    expect(handle.startTime).toEqual(expect.any(Number));

    await killApp(app);
    app = await startApp(s.env);
    // The restarted service found the command still running: it waits instead of deciding.
    expect(isAlive(pid)).toBe(true);
    const meanwhile = (await call(app, 'GET', `${API}/migrations/${migrationId}`)).body;
    expect(meanwhile).toMatchObject({ state: 'running', attempts: 1 });

    const done = await waitForEnd(app, migrationId);
    expect(launchLines(s)).toHaveLength(1);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(done.error).toMatch(/pid \d+\) ended, its exit status unknown.*found the VM on the target/);
    // It ended after the command finished its move (the location file is its last act), not before.
    expect(new Date(done.finishedAt).getTime()).toBeGreaterThanOrEqual(Math.floor(statSync(s.location).mtimeMs) - 1);

    expect((await call(app, 'GET', `${API}/vms/${vmId}`)).body.hostId).toBe(hostIds['kvm-b']);
    const all = (await call(app, 'GET', `${API}/migrations?vmId=${vmId}`)).body;
    expect(all.items.map((m: { state: string }) => m.state)).toEqual(['succeeded']);
    const successes = (await call(app, 'GET', `${API}/events?type=migration.succeeded&subjectId=${migrationId}`)).body;
    expect(successes.total).toBe(1);
    expect(successes.items[0].message).toMatch(/exit status unknown/);
    // Nothing else is queued for it either: the VM stays where the one move put it.
    await sleep(1000);
    expect(launchLines(s)).toHaveLength(1);
  });

  it('finds a command whose identity a crash kept from being stored (through its output file) and waits for it too', async () => {
    const s = scenario(16);
    dirs.push(s.dir);
    app = await startApp(s.env);
    const { hostIds, vmId, migrationId } = await startMigration(app, s);
    pids.push(firstPid(s));
    await killApp(app);
    // As if the service died between starting the command and storing its identity.
    await query(s.databasePath, 'UPDATE live_migrations SET handle = NULL WHERE id = ?', [migrationId]);

    app = await startApp(s.env);
    expect((await call(app, 'GET', `${API}/migrations/${migrationId}`)).body).toMatchObject({ state: 'running', attempts: 1 });
    const done = await waitForEnd(app, migrationId);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(launchLines(s)).toHaveLength(1);
    expect((await call(app, 'GET', `${API}/vms/${vmId}`)).body.hostId).toBe(hostIds['kvm-b']);
  });

  it('leaves the command running at a graceful stop (SIGTERM); the restarted service adopts it', async () => {
    const s = scenario(16);
    dirs.push(s.dir);
    app = await startApp(s.env);
    const { hostIds, vmId, migrationId } = await startMigration(app, s);
    const pid = firstPid(s);
    pids.push(pid);

    const exited = new Promise((r) => app!.proc.once('exit', r));
    app.proc.kill('SIGTERM');
    await exited;
    app = undefined;
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(s.signalFile)).toBe(false);
    const [row] = await query<{ state: string }>(s.databasePath, 'SELECT state FROM live_migrations WHERE id = ?', [migrationId]);
    expect(row.state).toBe('running');

    app = await startApp(s.env);
    const done = await waitForEnd(app, migrationId);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(launchLines(s)).toHaveLength(1);
    expect((await call(app, 'GET', `${API}/vms/${vmId}`)).body.hostId).toBe(hostIds['kvm-b']);
  });

  it('cancel after a restart kills the adopted command group with MIGRATION_KILL_SIGNAL, then reconciles', async () => {
    const s = scenario(120, { MIGRATION_KILL_SIGNAL: 'SIGINT' });
    dirs.push(s.dir);
    app = await startApp(s.env);
    const { hostIds, vmId, migrationId } = await startMigration(app, s);
    const pid = firstPid(s);
    pids.push(pid);
    expect(groupMembers(pid).length).toBeGreaterThanOrEqual(2);

    await killApp(app);
    app = await startApp(s.env);
    const res = await call(app, 'POST', `${API}/migrations/${migrationId}/cancel`);
    expect(res.status).toBe(200);
    const done = await waitForEnd(app, migrationId);
    expect(done.state).toBe('cancelled');
    expect(done.error).toMatch(/stopped \(SIGINT\) as asked.*the VM stayed on its source/);
    expect(readFileSync(s.signalFile, 'utf8').trim()).toBe('INT');
    await waitFor('the command group to be gone', () => (groupMembers(pid).length === 0 ? true : undefined), 5000);
    expect(launchLines(s)).toHaveLength(1);
    expect((await call(app, 'GET', `${API}/vms/${vmId}`)).body.hostId).toBe(hostIds['kvm-a']);
  });
});
