import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CommandMigrationDriver, parseProgressLine, type CommandDriverOptions } from './command-driver';
import type { MigrationHandle, MigrationJob, MigrationProgress } from './migration-driver';
import { ProcFs } from './process-identity';

// Run directly (it is executable): a template whose program is a shell is refused.
const FAKE = resolve(__dirname, '../../../test/fixtures/fake-migrate.sh');
const fake = (...args: string[]) => [FAKE, ...args];

function job(vmName = 'web-01'): MigrationJob {
  return {
    migrationId: 'mig-42',
    vm: { id: 'vm-7', name: vmName, memoryMib: 2048 },
    source: { id: 'host-a', name: 'kvm-a.example', migrationGbps: 10 },
    target: { id: 'host-b', name: 'kvm-b.example', migrationGbps: 10 },
    bandwidthMibPerSecond: () => 1192,
  };
}

let outputDir: string;
function driver(migrate: string[], options: Partial<CommandDriverOptions> = {}) {
  return new CommandMigrationDriver({ migrate, killGraceSeconds: 0.5, outputDir, pollMs: 20, ...options });
}

const run = (d: CommandMigrationDriver, j = job(), onProgress: (p: MigrationProgress) => void = () => {}) =>
  d.migrate(j, new AbortController().signal, onProgress);

describe('CommandMigrationDriver', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drs-cmd-driver-'));
    outputDir = join(dir, 'output');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const argsSeenBy = (file: string) => readFileSync(file, 'utf8').split('\0').slice(0, -1);

  it('fills the placeholders into separate arguments', async () => {
    const out = join(dir, 'args');
    const d = driver(
      fake(
        'args',
        out,
        '--live',
        '{vm}',
        'qemu+ssh://{targetHost}/system',
        '{vmId}',
        '{sourceHost}',
        '{migrationId}',
        '{sourceHostId}',
        '{targetHostId}',
      ),
    );
    await expect(run(d)).resolves.toMatchObject({ status: 'succeeded' });
    expect(argsSeenBy(out)).toEqual([
      '--live',
      'web-01',
      'qemu+ssh://kvm-b.example/system',
      'vm-7',
      'kvm-a.example',
      'mig-42',
      'host-a',
      'host-b',
    ]);
  });

  it.each([
    'x; rm -rf /does-not-exist-drs-test',
    '$(id -u)',
    '`id`',
    'a b  c',
    '*',
    'it\'s "quoted"',
    'line\nbreak',
    '{targetHost}',
    '--undefinesource',
    '-rf',
    '.hidden',
    'a/b',
  ])('refuses the VM name %j for {vm} and runs nothing', async (name) => {
    const out = join(dir, 'args');
    const outcome = await run(driver(fake('args', out, 'before', '{vm}', 'after')), job(name));
    expect(outcome).toMatchObject({ status: 'failed', transient: false });
    if (outcome.status === 'failed') expect(outcome.error).toMatch(/not started: the VM name .* cannot fill \{vm\}/s);
    expect(existsSync(out)).toBe(false);
  });

  it('passes names of the identifier grammar, and UUIDs, as one argument each', async () => {
    const out = join(dir, 'args');
    for (const name of ['web-01', 'db_2.prod', '0f8fad5b-d9cb-469f-a165-70867728950e']) {
      await expect(run(driver(fake('args', out, '--domain={vm}', '{vm}')), job(name))).resolves.toMatchObject({ status: 'succeeded' });
      expect(argsSeenBy(out)).toEqual([`--domain=${name}`, name]);
    }
  });

  it('does not check {vm} when the template does not use it: {vmId} is always safe', async () => {
    const out = join(dir, 'args');
    await expect(run(driver(fake('args', out, '{vmId}')), job('$(id -u)'))).resolves.toMatchObject({ status: 'succeeded' });
    expect(argsSeenBy(out)).toEqual(['vm-7']);
  });

  it('connects to the host address, or to the name when it is itself an address', async () => {
    const out = join(dir, 'args');
    const j = job();
    j.target = { ...j.target, name: 'Rack 4 / blade 2', address: '[2001:db8::7]' };
    await expect(run(driver(fake('args', out, 'qemu+ssh://{targetHost}/system', '{sourceHost}')), j)).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(argsSeenBy(out)).toEqual(['qemu+ssh://[2001:db8::7]/system', 'kvm-a.example']);
  });

  it('refuses a host whose name would change the destination and that has no address, and runs nothing', async () => {
    const out = join(dir, 'args');
    const j = job();
    j.target = { ...j.target, name: 'evil.example/system?socket=/tmp/x#' };
    const outcome = await run(driver(fake('args', out, 'qemu+ssh://{targetHost}/system')), j);
    expect(outcome).toMatchObject({ status: 'failed', transient: false });
    if (outcome.status === 'failed') expect(outcome.error).toMatch(/cannot fill \{targetHost\}.*set its address/);
    expect(existsSync(out)).toBe(false);
    // An invalid stored address is refused too, even with a usable name.
    j.target = { ...j.target, name: 'kvm-b.example', address: 'kvm-b.example:2222' };
    await expect(run(driver(fake('args', out, 'qemu+ssh://{targetHost}/system')), j)).resolves.toMatchObject({ status: 'failed' });
    expect(existsSync(out)).toBe(false);
  });

  it('succeeds on exit 0, relaying monotonic progress and the statistics the tool prints', async () => {
    const reports: MigrationProgress[] = [];
    const outcome = await run(driver(fake('succeed')), job(), (p) => reports.push(p));
    // The fixture prints 10 40 40 35 80 100: repeats and regressions are dropped, 100 waits for the exit.
    expect(reports.map((r) => r.percent)).toEqual([10, 40, 80, 99, 100]);
    expect(reports[0].copiedMib).toBeCloseTo(204.8, 9);
    expect(reports[0].remainingMib).toBeCloseTo(1843.2, 9);
    expect(reports[0].etaSeconds).toBeGreaterThanOrEqual(0);
    expect(reports[reports.length - 1].etaSeconds).toBe(0);
    expect(outcome).toMatchObject({ status: 'succeeded', downtimeMs: 120, rounds: 3, copiedMib: 5000 });
    if (outcome.status === 'succeeded') expect(outcome.durationSeconds).toBeGreaterThan(0.1);
  });

  it('understands virsh --verbose progress on stderr', async () => {
    const reports: MigrationProgress[] = [];
    await run(driver(fake('virsh-progress')), job(), (p) => reports.push(p));
    expect(reports.map((r) => r.percent)).toEqual([5, 50, 95, 100]);
  });

  it('fails with the tail of stderr on a non-zero exit', async () => {
    const outcome = await run(driver(fake('fail', '1', 'error: operation failed: domain is not running')));
    expect(outcome).toMatchObject({ status: 'failed', transient: false });
    if (outcome.status === 'failed') {
      expect(outcome.error).toMatch(/exited with code 1/);
      expect(outcome.error).toMatch(/error: operation failed: domain is not running/);
    }
  });

  it('marks configured exit codes as transient (75, EX_TEMPFAIL, by default)', async () => {
    await expect(run(driver(fake('fail', '75', 'busy')))).resolves.toMatchObject({ status: 'failed', transient: true });
    await expect(run(driver(fake('fail', '3', 'busy'), { transientExitCodes: [3] }))).resolves.toMatchObject({
      status: 'failed',
      transient: true,
    });
  });

  it('keeps only the last few KiB of a flood on stderr', async () => {
    const outcome = await run(driver(fake('flood-stderr'), { stderrTailBytes: 4096 }));
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.error).toMatch(/LAST-LINE: error: migration aborted by peer$/);
      expect(outcome.error).not.toMatch(/FIRST-LINE-OF-THE-FLOOD/);
      expect(outcome.error.length).toBeLessThan(4096 + 100);
    }
  });

  /** The fixture's own child (its "sleep"), which must not outlive a kill either. */
  const isAlive = (pidFile: string) => {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    // Orphans are reaped by whatever runs as PID 1, maybe a moment later: a zombie is dead already.
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  };

  /** A killed process closes its pipes a moment before it is gone from the process table. */
  // Dead well before the 30 s the fake's sleep would last. Patience, not a speed target: in CI, beside the libvirt e2e's
  // busy QEMU guests, a command killed at once was still alive 500 ms later.
  const diesSoon = async (pidFile: string) => {
    for (let waitedMs = 0; waitedMs < 5000; waitedMs += 10) {
      if (!isAlive(pidFile)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  };

  it('kills a command that outlives its timeout, and its children, as a transient failure', async () => {
    const pidFile = join(dir, 'pid');
    const started = performance.now();
    const outcome = await run(driver(fake('sleep', '30', pidFile), { timeoutSeconds: 0.3 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(outcome).toMatchObject({ status: 'failed', transient: true });
    if (outcome.status === 'failed') expect(outcome.error).toMatch(/timed out after 0.3 s/);
    expect(await diesSoon(pidFile)).toBe(true);
  });

  it('escalates to SIGKILL when the command ignores SIGTERM', async () => {
    const pidFile = join(dir, 'pid');
    const started = performance.now();
    // The timeout leaves bash time to set its trap even on a loaded machine: a SIGTERM before it would end the command at once.
    const outcome = await run(driver(fake('ignore-term', '30', pidFile), { timeoutSeconds: 1, killGraceSeconds: 0.3 }));
    const elapsedMs = performance.now() - started;
    // Timeout, then the grace period (SIGTERM ignored), then SIGKILL.
    expect(elapsedMs).toBeGreaterThanOrEqual(1250);
    expect(elapsedMs).toBeLessThan(3000);
    expect(outcome).toMatchObject({ status: 'failed', transient: true });
    expect(await diesSoon(pidFile)).toBe(true);
  });

  it('cancels by killing the command and its children', async () => {
    const pidFile = join(dir, 'pid');
    const controller = new AbortController();
    const running = driver(fake('sleep', '30', pidFile)).migrate(job(), controller.signal, () => {});
    await new Promise((r) => setTimeout(r, 150));
    expect(isAlive(pidFile)).toBe(true);
    const abortedAt = performance.now();
    controller.abort();
    await expect(running).resolves.toEqual({ status: 'cancelled' });
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expect(await diesSoon(pidFile)).toBe(true);
  });

  it('does not start the command when already cancelled', async () => {
    const out = join(dir, 'args');
    const controller = new AbortController();
    controller.abort();
    await expect(driver(fake('args', out, '{vm}')).migrate(job(), controller.signal, () => {})).resolves.toEqual({ status: 'cancelled' });
    expect(existsSync(out)).toBe(false);
  });

  it('fails, without rejecting, when the tool is missing', async () => {
    const outcome = await run(driver(['/nonexistent/virsh', 'migrate', '{vm}']));
    expect(outcome).toMatchObject({ status: 'failed', transient: false });
    if (outcome.status === 'failed') expect(outcome.error).toMatch(/could not start \/nonexistent\/virsh.*ENOENT/);
  });

  it('rejects bad templates when configured', () => {
    expect(() => driver([])).toThrow(/non-empty/);
    expect(() => driver(['virsh', 'migrate', '{domain}'])).toThrow(/unknown placeholder \{domain\}/);
    expect(() => driver(['{vm}'])).toThrow(/executable/);
    expect(() => driver(['virsh'], { reconcile: ['x', '{nope}'] })).toThrow(/command.reconcile/);
  });

  it('refuses a template whose program is a shell, directly or through env, unless allowed', () => {
    expect(() => driver(['sh', '-c', 'echo {vm} > file'])).toThrow(/command.migrate runs the shell "sh"/);
    expect(() => driver(['env', '-i', 'bash', '-c', 'virsh migrate {vm}'])).toThrow(/runs the shell "bash"/);
    expect(() => driver(fake('succeed'), { reconcile: ['/usr/bin/env', 'sh', '-c', 'echo {targetHost}'] })).toThrow(
      /command.reconcile runs the shell/,
    );
    expect(() => driver(['sh', '-c', 'echo {vm} > file'], { allowShell: true })).not.toThrow();
  });

  describe('a command that outlives the service', () => {
    const waitForFile = async (file: string) => {
      for (let waitedMs = 0; waitedMs < 3000 && !existsSync(file); waitedMs += 10) await new Promise((r) => setTimeout(r, 10));
    };
    const noHooks = () => ({ onLaunched: async () => undefined, detach: new AbortController().signal });

    it('hands its identity to the engine before it counts as started', async () => {
      const seen: unknown[] = [];
      const outcome = await driver(fake('succeed')).migrate(job(), new AbortController().signal, () => seen.push('progress'), {
        onLaunched: async (handle) => {
          seen.push(handle);
        },
        detach: new AbortController().signal,
      });
      expect(outcome.status).toBe('succeeded');
      expect(seen[0]).toMatchObject({ kind: 'process', pid: expect.any(Number), startTime: expect.any(Number), pgid: expect.any(Number) });
      expect(seen.slice(1).every((s) => s === 'progress')).toBe(true);
    });

    it('kills the command at once when its identity cannot be stored', async () => {
      const pidFile = join(dir, 'pid');
      const outcome = await driver(fake('sleep', '30', pidFile)).migrate(job(), new AbortController().signal, () => {}, {
        onLaunched: async () => {
          await waitForFile(pidFile);
          throw new Error('disk full');
        },
        detach: new AbortController().signal,
      });
      expect(outcome).toMatchObject({ status: 'failed', transient: true });
      if (outcome.status === 'failed') expect(outcome.error).toMatch(/identity could not be recorded \(disk full\)/);
      expect(await diesSoon(pidFile)).toBe(true);
    });

    it('lets the command run on at shutdown (detach), and a new driver adopts it until it ends', async () => {
      const detach = new AbortController();
      let handle: MigrationHandle | undefined;
      const running = driver(fake('move', join(dir, 'log'), '1', join(dir, 'location'), 'kvm-b.example')).migrate(
        job(),
        new AbortController().signal,
        () => {},
        { onLaunched: async (h) => void (handle = h), detach: detach.signal },
      );
      await waitForFile(join(dir, 'log'));
      detach.abort();
      await expect(running).resolves.toEqual({ status: 'detached' });
      expect(new ProcFs().isRunning(handle!)).toBe(true);

      const reports: number[] = [];
      const started = performance.now();
      const ended = await driver(fake('succeed')).adopt(job(), handle!, new AbortController().signal, (p) => reports.push(p.percent), {
        detach: new AbortController().signal,
        deadlineMs: null,
      });
      expect(ended.status).toBe('ended');
      expect(performance.now() - started).toBeGreaterThan(300);
      expect(readFileSync(join(dir, 'location'), 'utf8').trim()).toBe('kvm-b.example');
      // Its output went to a file, so the progress it printed before the adoption is read too.
      expect(reports).toEqual([10, 99]);
    });

    it('finds a command started just before a crash, before its identity was stored, through its output file', async () => {
      const pidFile = join(dir, 'pid');
      const detach = new AbortController();
      const d = driver(fake('sleep', '30', pidFile));
      const running = d.migrate(job(), new AbortController().signal, () => {}, { ...noHooks(), detach: detach.signal });
      await waitForFile(pidFile);
      detach.abort();
      await running;
      const found = await d.findLaunched(job());
      expect(found).not.toBeNull();
      expect(d.isRunning(found!)).toBe(true);
      expect(await d.findLaunched({ ...job(), migrationId: 'another' })).toBeNull();
      const cancel = new AbortController();
      cancel.abort();
      await expect(
        d.adopt(job(), found!, cancel.signal, () => {}, { detach: new AbortController().signal, deadlineMs: null }),
      ).resolves.toMatchObject({
        status: 'cancelled',
      });
      expect(await diesSoon(pidFile)).toBe(true);
    });

    it('stops an adopted command with the configured signal on cancel, and past its deadline', async () => {
      for (const [killSignal, expected] of [
        ['SIGINT', 'INT'],
        ['SIGTERM', 'TERM'],
      ] as const) {
        const log = join(dir, `log-${expected}`);
        const signalFile = join(dir, `signal-${expected}`);
        const detach = new AbortController();
        let handle: MigrationHandle | undefined;
        const d = driver(fake('move', log, '30', join(dir, 'location'), 'x', signalFile), { killSignal });
        const running = d.migrate(job(), new AbortController().signal, () => {}, {
          onLaunched: async (h) => void (handle = h),
          detach: detach.signal,
        });
        await waitForFile(log);
        detach.abort();
        await running;
        const cancel = new AbortController();
        const adopted = d.adopt(job(), handle!, cancel.signal, () => {}, { detach: new AbortController().signal, deadlineMs: null });
        await new Promise((r) => setTimeout(r, 100));
        cancel.abort();
        await expect(adopted).resolves.toMatchObject({ status: 'cancelled' });
        expect(readFileSync(signalFile, 'utf8').trim()).toBe(expected);
        expect(d.isRunning(handle!)).toBe(false);
      }
      const log = join(dir, 'log-deadline');
      const detach = new AbortController();
      let handle: MigrationHandle | undefined;
      const d = driver(fake('move', log, '30', join(dir, 'location'), 'x'));
      const running = d.migrate(job(), new AbortController().signal, () => {}, {
        onLaunched: async (h) => void (handle = h),
        detach: detach.signal,
      });
      await waitForFile(log);
      detach.abort();
      await running;
      await expect(
        d.adopt(job(), handle!, new AbortController().signal, () => {}, {
          detach: new AbortController().signal,
          deadlineMs: Date.now() + 200,
        }),
      ).resolves.toMatchObject({ status: 'timed-out' });
    });
  });

  describe('reconcile', () => {
    const reconciling = (host: string) => driver(fake('succeed'), { reconcile: fake('print-host', host) });

    it('maps the printed host to source or target, by name or id, ignoring case', async () => {
      await expect(reconciling('kvm-b.example').reconcile(job())).resolves.toBe('target');
      await expect(reconciling('KVM-A.example').reconcile(job())).resolves.toBe('source');
      await expect(reconciling('host-b').reconcile(job())).resolves.toBe('target');
    });

    it('fills placeholders, so the script can print the target it was given', async () => {
      const d = driver(fake('succeed'), { reconcile: fake('print-host', '{targetHost}') });
      await expect(d.reconcile(job())).resolves.toBe('target');
    });

    it('says unknown for another host, a failing command, or none configured', async () => {
      await expect(reconciling('kvm-c.example').reconcile(job())).resolves.toBe('unknown');
      await expect(driver(fake('succeed'), { reconcile: fake('fail', '1', 'no route') }).reconcile(job())).resolves.toBe('unknown');
      await expect(driver(fake('succeed')).reconcile(job())).resolves.toBe('unknown');
    });
  });
});

describe('parseProgressLine', () => {
  it.each([
    ['progress 42', 42],
    ['  Progress 7.5 % ', 7.5],
    ['Migration: [ 64 %]', 64],
    ['progress 250', 100],
    ['progressing nicely', null],
    ['copied 42', null],
  ])('%j → %p', (line, expected) => {
    expect(parseProgressLine(line)).toBe(expected);
  });
});
