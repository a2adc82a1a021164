// Default driver: plays the pre-copy model in real time divided by timeScale. Moves nothing.
import type { MigrationDriver, MigrationJob, MigrationOutcome, MigrationProgress, VmLocation } from './migration-driver';
import {
  DEFAULT_MAX_STALLED_ROUNDS,
  DEFAULT_PRECOPY_TIME_LIMIT_SECONDS,
  DEFAULT_STUN_BUDGET_MS,
  precopyRounds,
  projectPrecopy,
  type PrecopyResult,
  type PrecopyRound,
} from './precopy';
import { withDefaults } from './options';
import { emitProgress, errorMessage } from './progress';

/** Waits `ms` real milliseconds; resolves false as soon as the signal aborts (and clears its timer). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<boolean>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });

export interface SimulatedDriverOptions {
  /** Simulated seconds per real second: 1000 plays a 10 s migration in 10 ms. */
  timeScale: number;
  stunBudgetMs: number;
  /** Used when the job carries no dirty rate from samples. */
  defaultDirtyRateMibPerSecond: number;
  /** Simulated seconds of pre-copy before a non-converging migration fails. */
  timeLimitSeconds: number;
  maxStalledRounds: number;
  /** Real milliseconds between progress reports inside a long round. */
  progressIntervalMs: number;
  /** Chance (0–1) that a migration fails halfway through its first round, as a network error would. */
  failureProbability: number;
  /** VMs (name or id) whose migrations always fail that way. */
  failVmNames: Iterable<string>;
  /** Hosts (name or id), as source or target, whose migrations always fail that way. */
  failHostNames: Iterable<string>;
  random: () => number;
  sleep: Sleep;
}

/**
 * 10 MiB/s: a lightly loaded server guest. It converges even with 4 concurrent migrations sharing
 * 1 GbE (≈ 29.8 MiB/s each, remainder shrinking ×0.34 per round); 50 MiB/s would not.
 */
export const DEFAULT_DIRTY_RATE_MIB_PER_SECOND = 10;

export const DEFAULT_SIMULATED_DRIVER_OPTIONS: SimulatedDriverOptions = {
  timeScale: 1,
  stunBudgetMs: DEFAULT_STUN_BUDGET_MS,
  defaultDirtyRateMibPerSecond: DEFAULT_DIRTY_RATE_MIB_PER_SECOND,
  timeLimitSeconds: DEFAULT_PRECOPY_TIME_LIMIT_SECONDS,
  maxStalledRounds: DEFAULT_MAX_STALLED_ROUNDS,
  progressIntervalMs: 1000,
  failureProbability: 0,
  failVmNames: [],
  failHostNames: [],
  random: Math.random,
  sleep: realSleep,
};

/** Where in round 0 an injected failure strikes. */
const INJECTED_FAILURE_FRACTION = 0.5;

export class SimulatedMigrationDriver implements MigrationDriver {
  readonly name = 'simulated';
  private readonly options: SimulatedDriverOptions;
  private readonly failVms: Set<string>;
  private readonly failHosts: Set<string>;

  constructor(options: Partial<SimulatedDriverOptions> = {}) {
    this.options = withDefaults(DEFAULT_SIMULATED_DRIVER_OPTIONS, options);
    const o = this.options;
    if (!(o.timeScale > 0)) throw new Error(`timeScale must be > 0, got ${o.timeScale}`);
    if (!(o.stunBudgetMs > 0)) throw new Error(`stunBudgetMs must be > 0, got ${o.stunBudgetMs}`);
    if (!(o.defaultDirtyRateMibPerSecond >= 0)) throw new Error('defaultDirtyRateMibPerSecond must be >= 0');
    if (!(o.timeLimitSeconds > 0)) throw new Error('timeLimitSeconds must be > 0');
    if (!(Number.isInteger(o.maxStalledRounds) && o.maxStalledRounds >= 1)) throw new Error('maxStalledRounds must be an integer >= 1');
    if (!(o.progressIntervalMs > 0)) throw new Error('progressIntervalMs must be > 0');
    if (!(o.failureProbability >= 0 && o.failureProbability <= 1)) throw new Error('failureProbability must be within [0, 1]');
    this.failVms = new Set(o.failVmNames);
    this.failHosts = new Set(o.failHostNames);
  }

  async migrate(job: MigrationJob, signal: AbortSignal, onProgress: (progress: MigrationProgress) => void): Promise<MigrationOutcome> {
    try {
      return await this.play(job, signal, onProgress);
    } catch (error) {
      return { status: 'failed', error: `simulated driver error: ${errorMessage(error)}`, transient: false };
    }
  }

  /**
   * The simulation keeps no state outside this process, and the switch-over is only real once the
   * engine has recorded the success (moving the VM in the same transaction). A migration still
   * 'running' at a crash therefore never switched over: the VM is on its source.
   */
  async reconcile(_job: MigrationJob): Promise<VmLocation> {
    return 'source';
  }

  dirtyRateFor(job: MigrationJob): number {
    const known = job.vm.dirtyRateMibPerSecond;
    return typeof known === 'number' && Number.isFinite(known) && known >= 0 ? known : this.options.defaultDirtyRateMibPerSecond;
  }

  private injectedFailure(job: MigrationJob): string | null {
    if (this.failVms.has(job.vm.name) || this.failVms.has(job.vm.id)) return `VM ${job.vm.name} is configured to fail`;
    for (const host of [job.source, job.target]) {
      if (this.failHosts.has(host.name) || this.failHosts.has(host.id)) return `host ${host.name} is configured to fail`;
    }
    const p = this.options.failureProbability;
    if (p > 0 && this.options.random() < p) return `random failure (probability ${p})`;
    return null;
  }

  private async play(job: MigrationJob, signal: AbortSignal, onProgress: (progress: MigrationProgress) => void): Promise<MigrationOutcome> {
    if (signal.aborted) return { status: 'cancelled' };
    const { timeScale, stunBudgetMs, progressIntervalMs, sleep } = this.options;
    const memoryMib = job.vm.memoryMib;
    const dirtyRateMibPerSecond = this.dirtyRateFor(job);
    const injected = this.injectedFailure(job);
    const realMs = (simulatedSeconds: number) => (simulatedSeconds * 1000) / timeScale;
    let lastPercent = 0;

    const report = (round: PrecopyRound, fraction: number) => {
      const copiedMib = round.copiedBeforeMib + round.copyMib * fraction;
      const roundRestMib = round.copyMib * (1 - fraction);
      const projection = projectPrecopy({
        dirtyMib: round.dirtiedMib,
        memoryMib,
        dirtyRateMibPerSecond,
        bandwidthMibPerSecond: currentBandwidth(job, round.bandwidthMibPerSecond),
        stunBudgetMs,
      });
      const remainingMib = roundRestMib + (projection ? projection.copyMib : round.dirtiedMib);
      const total = copiedMib + remainingMib;
      const estimate = total > 0 ? Math.floor((copiedMib / total) * 1000) / 10 : 0;
      lastPercent = Math.max(lastPercent, Math.min(99, estimate));
      emitProgress(onProgress, {
        percent: lastPercent,
        round: round.round,
        copiedMib,
        remainingMib,
        etaSeconds: projection ? (roundRestMib / round.bandwidthMibPerSecond + projection.seconds) / timeScale : null,
      });
    };

    const rounds = precopyRounds({
      memoryMib,
      dirtyRateMibPerSecond,
      bandwidthMibPerSecond: () => job.bandwidthMibPerSecond(),
      stunBudgetMs,
      timeLimitSeconds: this.options.timeLimitSeconds,
      maxStalledRounds: this.options.maxStalledRounds,
    });
    let step = rounds.next();
    while (!step.done) {
      const round = step.value;
      report(round, 0);
      const until = injected && round.round === 0 ? INJECTED_FAILURE_FRACTION : 1;
      const roundMs = realMs(round.durationSeconds * until);
      const chunks = Math.max(1, Math.ceil(roundMs / progressIntervalMs));
      for (let chunk = 1; chunk <= chunks; chunk++) {
        if (!(await sleep(roundMs / chunks, signal))) return { status: 'cancelled' };
        report(round, (until * chunk) / chunks);
      }
      if (injected) {
        return {
          status: 'failed',
          error:
            `injected failure: connection to ${job.target.name} lost during pre-copy (${injected}); ` +
            `the VM stays on ${job.source.name}`,
          transient: true,
          rounds: 1,
          copiedMib: round.copyMib * until,
          durationSeconds: round.durationSeconds * until,
        };
      }
      step = rounds.next();
    }

    const result = step.value;
    if (!result.converged) return failure(job, dirtyRateMibPerSecond, this.options.timeLimitSeconds, result);
    // The stun: the remainder is copied with the VM paused.
    if (!(await sleep(realMs(result.downtimeMs / 1000), signal))) return { status: 'cancelled' };
    emitProgress(onProgress, {
      percent: 100,
      round: Math.max(0, result.rounds - 1),
      copiedMib: result.copiedMib,
      remainingMib: 0,
      etaSeconds: 0,
    });
    return {
      status: 'succeeded',
      downtimeMs: result.downtimeMs,
      rounds: result.rounds,
      copiedMib: result.copiedMib,
      durationSeconds: result.durationSeconds,
    };
  }
}

function currentBandwidth(job: MigrationJob, fallback: number): number {
  const now = job.bandwidthMibPerSecond();
  return Number.isFinite(now) && now > 0 ? now : fallback;
}

function failure(job: MigrationJob, dirtyRate: number, timeLimitSeconds: number, result: PrecopyResult): MigrationOutcome {
  const mib = (value: number) => `${Math.round(value)} MiB`;
  const rate = (value: number) => `${Math.round(value * 10) / 10} MiB/s`;
  const after = `${mib(result.finalDirtyMib)} still dirty after ${result.rounds} rounds`;
  let error: string;
  switch (result.failureReason) {
    case 'no-bandwidth':
      error = `no migration bandwidth between ${job.source.name} and ${job.target.name}`;
      break;
    case 'time-limit':
      error = `pre-copy did not converge within ${timeLimitSeconds} s (${after})`;
      break;
    default:
      error =
        `pre-copy not converging: the guest dirties ${rate(dirtyRate)} ` +
        `against ${rate(result.lastBandwidthMibPerSecond)} of bandwidth (${after})`;
  }
  return {
    status: 'failed',
    error: `${error}; the VM stays on ${job.source.name}`,
    // A missing link may come back; a guest too busy to converge fails again until its load drops.
    transient: result.failureReason === 'no-bandwidth',
    rounds: result.rounds,
    copiedMib: result.copiedMib,
    durationSeconds: result.durationSeconds,
  };
}
