// The port between the migration engine and whatever actually moves a VM between hosts.

export interface MigrationJob {
  migrationId: string;
  vm: {
    id: string;
    name: string;
    memoryMib: number;
    /** From the VM's samples, when known. */
    dirtyRateMibPerSecond?: number;
  };
  source: { id: string; name: string; migrationGbps: number };
  target: { id: string; name: string; migrationGbps: number };
  /**
   * Current bandwidth in MiB/s for this migration: the engine computes min(source, target Gbps)
   * shared among the concurrent migrations on either host. Drivers re-read it every round because
   * it changes as other migrations start and finish.
   */
  bandwidthMibPerSecond: () => number;
}

export interface MigrationProgress {
  /** 0–100, never decreasing within one migration; 100 only once the migration succeeded. */
  percent: number;
  /** Pre-copy round in progress (0 = the full memory copy). */
  round: number;
  copiedMib: number;
  /** Best estimate of what is still to be copied, including later rounds and the switch-over. */
  remainingMib: number;
  /** Wall-clock seconds until the end, or null when the driver cannot tell (e.g. not converging). */
  etaSeconds: number | null;
}

export type MigrationOutcome =
  | { status: 'succeeded'; downtimeMs: number; rounds: number; copiedMib: number; durationSeconds: number }
  | {
      status: 'failed';
      error: string;
      /** True when retrying the same migration later may well succeed. */
      transient: boolean;
      rounds?: number;
      copiedMib?: number;
      durationSeconds?: number;
    }
  | { status: 'cancelled' };

export type VmLocation = 'source' | 'target' | 'unknown';

export interface MigrationDriver {
  readonly name: string;
  /**
   * Runs the migration to the end, reporting progress; resolves (never rejects) with the outcome.
   * Aborting the signal cancels it: resolves 'cancelled' and the VM stays on its source.
   */
  migrate(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
  ): Promise<MigrationOutcome>;
  /**
   * After a crash: the migration was 'running' when the process died. Says where the VM is now;
   * on 'unknown' the engine retries or fails the migration.
   */
  reconcile(job: MigrationJob): Promise<VmLocation>;
}
