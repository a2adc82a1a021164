// Pure model of vMotion-style iterative pre-copy: no timers, no I/O. The simulated driver plays
// its rounds in (scaled) real time; tests and the planner can call it directly.

export const DEFAULT_STUN_BUDGET_MS = 500;
export const DEFAULT_PRECOPY_TIME_LIMIT_SECONDS = 600;
/**
 * Consecutive rounds whose remainder did not shrink before giving up. One such round can be a
 * bandwidth dip while other migrations start on the same hosts; two in a row means the guest
 * dirties memory at least as fast as we send it.
 */
export const DEFAULT_MAX_STALLED_ROUNDS = 2;
/** Guards against endless tiny rounds; the time limit normally ends non-converging runs first. */
export const DEFAULT_MAX_PRECOPY_ROUNDS = 1000;

const MIB = 1024 * 1024;

/** Link speed in Gbit/s (decimal, as NICs are sold) to MiB/s of payload, ignoring protocol overhead. */
export function gbpsToMibPerSecond(gbps: number): number {
  return (gbps * 1e9) / 8 / MIB;
}

export interface PrecopyParams {
  memoryMib: number;
  dirtyRateMibPerSecond: number;
  /**
   * MiB/s. A function is called with the round index at the moment that round starts (which is
   * also when the switch-over decision before it is taken), so a driver stepping the generator in
   * real time sees the bandwidth of that moment.
   */
  bandwidthMibPerSecond: number | ((round: number) => number);
  stunBudgetMs?: number;
  /** Simulated seconds of pre-copy after which a non-converged migration fails (checked between rounds). */
  timeLimitSeconds?: number;
  maxStalledRounds?: number;
  maxRounds?: number;
}

export interface PrecopyRound {
  /** 0 = the full memory copy. */
  round: number;
  /** MiB sent in this round: all memory in round 0, then what the guest dirtied during the previous round. */
  copyMib: number;
  bandwidthMibPerSecond: number;
  /** Simulated seconds since the migration started. */
  startSeconds: number;
  durationSeconds: number;
  /** MiB the guest dirties while this round runs (capped at its memory size): the next copy. */
  dirtiedMib: number;
  /** MiB copied by the earlier rounds. */
  copiedBeforeMib: number;
}

export type PrecopyFailureReason = 'not-converging' | 'time-limit' | 'round-limit' | 'no-bandwidth';

export interface PrecopyResult {
  converged: boolean;
  failureReason?: PrecopyFailureReason;
  /** Pre-copy rounds run, round 0 included; the switch-over (stun) copy is not a round. */
  rounds: number;
  /** Everything sent, the switch-over copy included when converged. */
  copiedMib: number;
  /** Simulated seconds: pre-copy rounds plus the downtime. */
  durationSeconds: number;
  /** Time the VM is stunned for the final copy; 0 when not converged (the VM keeps running on its source). */
  downtimeMs: number;
  /** Dirty memory at the end of pre-copy: sent during the stun when converged, left behind otherwise. */
  finalDirtyMib: number;
  /** Bandwidth of the switch-over decision, or of the last attempt when it failed. */
  lastBandwidthMibPerSecond: number;
  roundDetails: PrecopyRound[];
}

/**
 * Yields each pre-copy round when it starts (so a caller can wait for its duration before asking
 * for the next), and returns the result once the switch-over happens or the migration gives up.
 */
export function* precopyRounds(params: PrecopyParams): Generator<PrecopyRound, PrecopyResult, void> {
  const memoryMib = params.memoryMib;
  const dirtyRate = params.dirtyRateMibPerSecond;
  if (!(Number.isFinite(memoryMib) && memoryMib >= 0)) throw new RangeError(`memoryMib must be >= 0, got ${memoryMib}`);
  if (!(Number.isFinite(dirtyRate) && dirtyRate >= 0)) {
    throw new RangeError(`dirtyRateMibPerSecond must be >= 0, got ${dirtyRate}`);
  }
  const stunSeconds = (params.stunBudgetMs ?? DEFAULT_STUN_BUDGET_MS) / 1000;
  const timeLimitSeconds = params.timeLimitSeconds ?? DEFAULT_PRECOPY_TIME_LIMIT_SECONDS;
  const maxStalledRounds = params.maxStalledRounds ?? DEFAULT_MAX_STALLED_ROUNDS;
  const maxRounds = params.maxRounds ?? DEFAULT_MAX_PRECOPY_ROUNDS;
  const bandwidthOf =
    typeof params.bandwidthMibPerSecond === 'function' ? params.bandwidthMibPerSecond : () => params.bandwidthMibPerSecond as number;

  const roundDetails: PrecopyRound[] = [];
  let elapsedSeconds = 0;
  let copiedMib = 0;
  let toCopyMib = memoryMib;
  let stalledRounds = 0;

  const finish = (
    bandwidth: number,
    outcome: { converged: true } | { converged: false; failureReason: PrecopyFailureReason },
  ): PrecopyResult => {
    if (outcome.converged) {
      const downtimeSeconds = toCopyMib / bandwidth;
      return {
        converged: true,
        rounds: roundDetails.length,
        copiedMib: copiedMib + toCopyMib,
        durationSeconds: elapsedSeconds + downtimeSeconds,
        downtimeMs: downtimeSeconds * 1000,
        finalDirtyMib: toCopyMib,
        lastBandwidthMibPerSecond: bandwidth,
        roundDetails,
      };
    }
    return {
      converged: false,
      failureReason: outcome.failureReason,
      rounds: roundDetails.length,
      copiedMib,
      durationSeconds: elapsedSeconds,
      downtimeMs: 0,
      finalDirtyMib: toCopyMib,
      lastBandwidthMibPerSecond: bandwidth,
      roundDetails,
    };
  };

  for (let round = 0; ; round++) {
    const bandwidth = bandwidthOf(round);
    if (!(Number.isFinite(bandwidth) && bandwidth > 0)) {
      return finish(bandwidth, { converged: false, failureReason: 'no-bandwidth' });
    }
    if (round > 0) {
      // Switch-over as soon as the remainder fits the stun budget.
      if (toCopyMib / bandwidth <= stunSeconds) return finish(bandwidth, { converged: true });
      if (stalledRounds >= maxStalledRounds) return finish(bandwidth, { converged: false, failureReason: 'not-converging' });
      if (elapsedSeconds >= timeLimitSeconds) return finish(bandwidth, { converged: false, failureReason: 'time-limit' });
      if (round >= maxRounds) return finish(bandwidth, { converged: false, failureReason: 'round-limit' });
    }
    const durationSeconds = toCopyMib / bandwidth;
    const dirtiedMib = Math.min(memoryMib, dirtyRate * durationSeconds);
    const details: PrecopyRound = {
      round,
      copyMib: toCopyMib,
      bandwidthMibPerSecond: bandwidth,
      startSeconds: elapsedSeconds,
      durationSeconds,
      dirtiedMib,
      copiedBeforeMib: copiedMib,
    };
    roundDetails.push(details);
    yield details;
    elapsedSeconds += durationSeconds;
    copiedMib += toCopyMib;
    stalledRounds = dirtiedMib >= toCopyMib && toCopyMib > 0 ? stalledRounds + 1 : 0;
    toCopyMib = dirtiedMib;
  }
}

/** Runs the whole model at once. */
export function simulatePrecopy(params: PrecopyParams): PrecopyResult {
  const rounds = precopyRounds(params);
  for (;;) {
    const step = rounds.next();
    if (step.done) return step.value;
  }
}

export interface PrecopyProjection {
  /** MiB still to send: the given dirty set, later rounds and the switch-over copy. */
  copyMib: number;
  /** Simulated seconds until the switch-over ends. */
  seconds: number;
}

/**
 * From a round boundary with `dirtyMib` still to send, what is left if the bandwidth stays as it is
 * now; null when it would not converge. Used for progress and ETA.
 */
export function projectPrecopy(args: {
  dirtyMib: number;
  memoryMib: number;
  dirtyRateMibPerSecond: number;
  bandwidthMibPerSecond: number;
  stunBudgetMs?: number;
  maxRounds?: number;
}): PrecopyProjection | null {
  const bandwidth = args.bandwidthMibPerSecond;
  if (!(Number.isFinite(bandwidth) && bandwidth > 0)) return null;
  const stunSeconds = (args.stunBudgetMs ?? DEFAULT_STUN_BUDGET_MS) / 1000;
  const maxRounds = args.maxRounds ?? DEFAULT_MAX_PRECOPY_ROUNDS;
  let toCopy = args.dirtyMib;
  let copyMib = 0;
  let seconds = 0;
  for (let round = 0; round <= maxRounds; round++) {
    if (toCopy / bandwidth <= stunSeconds) return { copyMib: copyMib + toCopy, seconds: seconds + toCopy / bandwidth };
    const next = Math.min(args.memoryMib, (args.dirtyRateMibPerSecond * toCopy) / bandwidth);
    if (next >= toCopy) return null;
    copyMib += toCopy;
    seconds += toCopy / bandwidth;
    toCopy = next;
  }
  return null;
}
