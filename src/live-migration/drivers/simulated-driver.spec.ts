import type { MigrationJob, MigrationProgress } from './migration-driver';
import { SimulatedMigrationDriver, type Sleep } from './simulated-driver';

function job(
  overrides: { memoryMib?: number; dirtyRateMibPerSecond?: number; bandwidth?: () => number; vmName?: string } = {},
): MigrationJob {
  return {
    migrationId: 'm-1',
    vm: {
      id: 'vm-1',
      name: overrides.vmName ?? 'web-01',
      memoryMib: overrides.memoryMib ?? 4096,
      ...(overrides.dirtyRateMibPerSecond === undefined ? {} : { dirtyRateMibPerSecond: overrides.dirtyRateMibPerSecond }),
    },
    source: { id: 'h-1', name: 'esx-01', migrationGbps: 10 },
    target: { id: 'h-2', name: 'esx-02', migrationGbps: 10 },
    bandwidthMibPerSecond: overrides.bandwidth ?? (() => 1250),
  };
}

/** Returns at once and records what the driver asked to wait, in real milliseconds. */
function recordingSleep(): { sleep: Sleep; waitedMs: number[] } {
  const waitedMs: number[] = [];
  return {
    waitedMs,
    sleep: async (ms, signal) => {
      waitedMs.push(ms);
      return !signal.aborted;
    },
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('SimulatedMigrationDriver', () => {
  afterEach(() => jest.restoreAllMocks());

  it('plays the model in real time divided by timeScale', async () => {
    // Quiet VM (see precopy.spec): 3.3030144 simulated seconds → 3.3030144 ms at ×1000, 330.30144 ms at ×10.
    for (const [timeScale, expectedMs] of [
      [1000, 3.3030144],
      [10, 330.30144],
    ]) {
      const { sleep, waitedMs } = recordingSleep();
      const driver = new SimulatedMigrationDriver({ timeScale, sleep, progressIntervalMs: 50 });
      const outcome = await driver.migrate(job({ dirtyRateMibPerSecond: 10 }), new AbortController().signal, () => {});
      expect(outcome).toMatchObject({ status: 'succeeded', rounds: 1 });
      expect(sum(waitedMs)).toBeCloseTo(expectedMs, 6);
      // Progress every ≤ 50 real ms inside a long round.
      expect(Math.max(...waitedMs)).toBeLessThanOrEqual(50);
    }
  });

  it('really takes about that long on the clock', async () => {
    // Busy VM (see precopy.spec): 5.967 simulated seconds at ×40 → ≈ 149 ms.
    const driver = new SimulatedMigrationDriver({ timeScale: 40 });
    const started = performance.now();
    const outcome = await driver.migrate(job({ dirtyRateMibPerSecond: 600 }), new AbortController().signal, () => {});
    const elapsedMs = performance.now() - started;
    expect(outcome).toMatchObject({ status: 'succeeded', rounds: 3 });
    if (outcome.status === 'succeeded') {
      expect(outcome.durationSeconds).toBeCloseTo(5.9670265856, 9);
      expect(outcome.downtimeMs).toBeCloseTo(362.3878656, 6);
    }
    expect(elapsedMs).toBeGreaterThanOrEqual(140);
    expect(elapsedMs).toBeLessThan(1500);
  });

  it('reports monotonic progress with a sensible ETA, ending at 100 %', async () => {
    const { sleep } = recordingSleep();
    const driver = new SimulatedMigrationDriver({ timeScale: 1, sleep, progressIntervalMs: 200 });
    const reports: MigrationProgress[] = [];
    const outcome = await driver.migrate(job({ dirtyRateMibPerSecond: 600 }), new AbortController().signal, (p) => reports.push(p));
    expect(outcome.status).toBe('succeeded');
    expect(reports.length).toBeGreaterThan(10);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i].percent).toBeGreaterThanOrEqual(reports[i - 1].percent);
      expect(reports[i].copiedMib).toBeGreaterThanOrEqual(reports[i - 1].copiedMib);
      expect(reports[i].round).toBeGreaterThanOrEqual(reports[i - 1].round);
      // Constant bandwidth: the ETA only goes down.
      expect(reports[i].etaSeconds!).toBeLessThanOrEqual(reports[i - 1].etaSeconds! + 1e-9);
    }
    expect(reports.map((r) => r.round)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(reports.slice(0, -1).every((r) => r.percent < 100)).toBe(true);
    // At the start the whole migration is ahead: 5.967 s at ×1, all 7458.78 MiB still to copy.
    expect(reports[0]).toMatchObject({ percent: 0, round: 0, copiedMib: 0 });
    expect(reports[0].etaSeconds).toBeCloseTo(5.9670265856, 6);
    expect(reports[0].remainingMib).toBeCloseTo(7458.783232, 6);
    // Halfway through round 0 (4096 MiB of the 7458.78 total), about a quarter is done.
    const midRound0 = reports.find((r) => r.round === 0 && r.copiedMib >= 2048)!;
    expect(midRound0.percent).toBeGreaterThan(20);
    expect(midRound0.percent).toBeLessThan(40);
    expect(reports[reports.length - 1]).toMatchObject({ percent: 100, remainingMib: 0, etaSeconds: 0 });
    expect(reports[reports.length - 1].copiedMib).toBeCloseTo(7458.783232, 6);
  });

  it('reports the ETA in wall-clock seconds', async () => {
    const { sleep } = recordingSleep();
    const reports: MigrationProgress[] = [];
    await new SimulatedMigrationDriver({ timeScale: 100, sleep }).migrate(
      job({ dirtyRateMibPerSecond: 600 }),
      new AbortController().signal,
      (p) => reports.push(p),
    );
    expect(reports[0].etaSeconds).toBeCloseTo(0.059670265856, 9);
  });

  it('re-reads the bandwidth every round', async () => {
    // 1000 MiB, 100 MiB/s dirty; round 0 at 1250 MiB/s (0.8 s, 80 MiB dirtied), then the link is
    // shared with another migration: 80 MiB at 625 MiB/s = 128 ms of stun.
    let shared = false;
    const { sleep } = recordingSleep();
    const reports: MigrationProgress[] = [];
    const outcome = await new SimulatedMigrationDriver({ sleep }).migrate(
      job({ memoryMib: 1000, dirtyRateMibPerSecond: 100, bandwidth: () => (shared ? 625 : 1250) }),
      new AbortController().signal,
      (p) => {
        reports.push(p);
        if (p.copiedMib >= 1000) shared = true;
      },
    );
    expect(outcome).toMatchObject({ status: 'succeeded', rounds: 1 });
    if (outcome.status === 'succeeded') expect(outcome.downtimeMs).toBeCloseTo(128, 9);
  });

  it('uses the configured dirty rate when the VM has no samples', async () => {
    const { sleep } = recordingSleep();
    const driver = new SimulatedMigrationDriver({ sleep, defaultDirtyRateMibPerSecond: 600 });
    const unknown = await driver.migrate(job(), new AbortController().signal, () => {});
    const known = await driver.migrate(job({ dirtyRateMibPerSecond: 10 }), new AbortController().signal, () => {});
    expect(unknown).toMatchObject({ status: 'succeeded', rounds: 3 });
    expect(known).toMatchObject({ status: 'succeeded', rounds: 1 });
    // A measured 0 is a real value, not "unknown".
    const idle = await driver.migrate(job({ dirtyRateMibPerSecond: 0 }), new AbortController().signal, () => {});
    expect(idle).toMatchObject({ status: 'succeeded', downtimeMs: 0 });
  });

  it('fails a VM that dirties memory faster than the link, as permanent, leaving it on the source', async () => {
    const { sleep } = recordingSleep();
    const outcome = await new SimulatedMigrationDriver({ sleep }).migrate(
      job({ dirtyRateMibPerSecond: 1500 }),
      new AbortController().signal,
      () => {},
    );
    expect(outcome).toMatchObject({ status: 'failed', transient: false, rounds: 2 });
    if (outcome.status === 'failed') {
      expect(outcome.error).toMatch(/not converging/);
      expect(outcome.error).toMatch(/stays on esx-01/);
    }
  });

  it('cancels promptly mid-run, clears its timer and reports nothing afterwards', async () => {
    // ×10: the quiet VM takes ≈ 330 ms; cancel after ≈ 60 ms.
    const driver = new SimulatedMigrationDriver({ timeScale: 10, progressIntervalMs: 20 });
    const controller = new AbortController();
    const reports: MigrationProgress[] = [];
    // Every timer set from here on, until it fires or is cleared (the process's own timer count is
    // shared with whatever else runs in it, so it is not a reliable measure).
    const pending = new Set<NodeJS.Timeout>();
    const realSetTimeout = global.setTimeout;
    const realClearTimeout = global.clearTimeout;
    jest.spyOn(global, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer = realSetTimeout(() => {
        pending.delete(timer);
        fn(...args);
      }, ms);
      pending.add(timer);
      return timer;
    }) as unknown as typeof setTimeout);
    jest.spyOn(global, 'clearTimeout').mockImplementation((timer?: string | number | NodeJS.Timeout) => {
      pending.delete(timer as NodeJS.Timeout);
      realClearTimeout(timer);
    });
    const running = driver.migrate(job({ dirtyRateMibPerSecond: 10 }), controller.signal, (p) => reports.push(p));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const reportsAtAbort = reports.length;
    const abortedAt = performance.now();
    controller.abort();
    const outcome = await running;
    expect(performance.now() - abortedAt).toBeLessThan(50);
    expect(outcome).toEqual({ status: 'cancelled' });
    expect(reportsAtAbort).toBeGreaterThan(0);
    expect(reports.length).toBe(reportsAtAbort);
    expect(reports.every((r) => r.percent < 100)).toBe(true);
    // A timer the driver left behind would still be pending (the run had ≈ 270 ms to go).
    expect(pending.size).toBe(0);
  });

  it('does not start when already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const onProgress = jest.fn();
    const outcome = await new SimulatedMigrationDriver().migrate(job(), controller.signal, onProgress);
    expect(outcome).toEqual({ status: 'cancelled' });
    expect(onProgress).not.toHaveBeenCalled();
  });

  describe('failure injection', () => {
    it('fails VMs named in failVmNames halfway through round 0, as transient', async () => {
      const { sleep, waitedMs } = recordingSleep();
      const driver = new SimulatedMigrationDriver({ sleep, timeScale: 1000, failVmNames: new Set(['db-01']) });
      const outcome = await driver.migrate(job({ vmName: 'db-01', dirtyRateMibPerSecond: 10 }), new AbortController().signal, () => {});
      // Half of round 0: 2048 MiB in 1.6384 s, i.e. 1.6384 ms at ×1000.
      expect(outcome).toMatchObject({ status: 'failed', transient: true, rounds: 1, copiedMib: 2048 });
      if (outcome.status === 'failed') {
        expect(outcome.durationSeconds).toBeCloseTo(1.6384, 9);
        expect(outcome.error).toMatch(/injected failure/);
        expect(outcome.error).toMatch(/db-01/);
      }
      expect(sum(waitedMs)).toBeCloseTo(1.6384, 9);
      const other = await driver.migrate(job({ vmName: 'web-01', dirtyRateMibPerSecond: 10 }), new AbortController().signal, () => {});
      expect(other.status).toBe('succeeded');
    });

    it('fails migrations from or to hosts named in failHostNames', async () => {
      const { sleep } = recordingSleep();
      const driver = new SimulatedMigrationDriver({ sleep, failHostNames: ['esx-02'] });
      const outcome = await driver.migrate(job(), new AbortController().signal, () => {});
      expect(outcome).toMatchObject({ status: 'failed', transient: true });
      if (outcome.status === 'failed') expect(outcome.error).toMatch(/esx-02/);
    });

    it('fails with the configured probability, drawn from the injected random()', async () => {
      const { sleep } = recordingSleep();
      const draws = [0.1, 0.9, 0.29, 0.3];
      const random = jest.fn(() => draws.shift()!);
      const driver = new SimulatedMigrationDriver({ sleep, failureProbability: 0.3, random });
      const statuses: string[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await driver.migrate(job(), new AbortController().signal, () => {})).status);
      expect(statuses).toEqual(['failed', 'succeeded', 'failed', 'succeeded']);
      expect(random).toHaveBeenCalledTimes(4);
    });

    it('never draws when the probability is 0', async () => {
      const { sleep } = recordingSleep();
      const random = jest.fn(() => 0);
      const outcome = await new SimulatedMigrationDriver({ sleep, random }).migrate(job(), new AbortController().signal, () => {});
      expect(outcome.status).toBe('succeeded');
      expect(random).not.toHaveBeenCalled();
    });
  });

  it('resolves instead of rejecting when the engine hands it something broken', async () => {
    const { sleep } = recordingSleep();
    const driver = new SimulatedMigrationDriver({ sleep });
    const throwingBandwidth = await driver.migrate(
      job({
        bandwidth: () => {
          throw new Error('no such host');
        },
      }),
      new AbortController().signal,
      () => {},
    );
    expect(throwingBandwidth).toMatchObject({ status: 'failed', transient: false });
    const noBandwidth = await driver.migrate(job({ bandwidth: () => 0 }), new AbortController().signal, () => {});
    expect(noBandwidth).toMatchObject({ status: 'failed', transient: true });
    const throwingListener = await driver.migrate(job(), new AbortController().signal, () => {
      throw new Error('listener bug');
    });
    expect(throwingListener.status).toBe('succeeded');
  });

  it('reconciles a crashed migration to the source: a simulated switch-over is never left half-done', async () => {
    await expect(new SimulatedMigrationDriver().reconcile(job())).resolves.toBe('source');
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new SimulatedMigrationDriver({ timeScale: 0 })).toThrow(/timeScale/);
    expect(() => new SimulatedMigrationDriver({ failureProbability: 2 })).toThrow(/failureProbability/);
  });
});
