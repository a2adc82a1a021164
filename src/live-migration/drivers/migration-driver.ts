// The port between the migration engine and whatever actually moves a VM between hosts.
import type { ProcessHandle } from './process-identity';

/**
 * A live migration run by libvirt: it lives only as long as the `virsh migrate` client that asked for
 * it, so the handle is that client's identity plus what both hosts need to be asked about the domain.
 */
export interface LibvirtMigrationHandle extends Omit<ProcessHandle, 'kind'> {
  kind: 'libvirt';
  domainUuid: string | null;
  domainName: string;
  sourceUri: string;
  targetUri: string;
}

/** A vMotion run by vCenter: the task's managed-object id finds it again; no local process carries it (pid 0). */
export interface VsphereMigrationHandle extends Omit<ProcessHandle, 'kind'> {
  kind: 'vsphere';
  task: string;
  vm: string;
  targetHost: string;
}

/**
 * A live migration run by Proxmox VE: its task's UPID on the source node finds it again (pid 0). An HA-managed guest
 * is moved by the HA manager (`ha`), whose task exists only once it starts: `upid` may then be empty.
 */
export interface ProxmoxMigrationHandle extends Omit<ProcessHandle, 'kind'> {
  kind: 'proxmox';
  upid: string;
  node: string;
  vmid: number;
  target: string;
  ha: boolean;
}

/**
 * What a driver started and the engine stores with the migration (as JSON), so that a restarted
 * service adopts the job instead of starting another. Connectors add their own kinds (a task id…);
 * every kind carries `pid` (0 when no local process carries the job).
 */
export type MigrationHandle = ProcessHandle | LibvirtMigrationHandle | VsphereMigrationHandle | ProxmoxMigrationHandle;

/** A host as a job carries it: `address` (DNS name or IP literal) is what commands connect to. */
export interface JobHost {
  id: string;
  name: string;
  address?: string | null;
  migrationGbps: number;
}

export interface MigrationJob {
  migrationId: string;
  vm: {
    id: string;
    name: string;
    memoryMib: number;
    /** From the VM's samples, when known. */
    dirtyRateMibPerSecond?: number;
  };
  source: JobHost;
  target: JobHost;
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
  | { status: 'cancelled' }
  /** The service is shutting down and the work goes on without it (see LaunchHooks.detach). */
  | { status: 'detached' };

export interface LaunchHooks {
  /**
   * Called once the work exists and before it counts as started; the engine stores the handle
   * durably. If it rejects, the driver stops the work and the attempt fails.
   */
  onLaunched: (handle: MigrationHandle) => Promise<void>;
  /** Fires when the service shuts down: a driver whose work outlives it lets go and resolves 'detached'. */
  detach: AbortSignal;
}

/** How the work behind an adopted handle ended. Its result (an exit status) is not known: only where the VM is. */
export type AdoptedEnd =
  | { status: 'ended'; output: string }
  | { status: 'cancelled'; output: string }
  | { status: 'timed-out'; output: string }
  | { status: 'detached' };

export interface AdoptOptions {
  detach: AbortSignal;
  /** Epoch ms after which the work is stopped as timed out; null for no limit. */
  deadlineMs: number | null;
}

export type VmLocation = 'source' | 'target' | 'unknown';

export interface MigrationDriver {
  readonly name: string;
  /**
   * Drivers that stop their own work after a time limit (aborting it properly) say how long, in ms,
   * including their grace to stop; the engine's deadline then only backstops it.
   */
  readonly timeLimitMs?: number;
  /**
   * Runs the migration to the end, reporting progress; resolves (never rejects) with the outcome.
   * Aborting the signal cancels it: resolves 'cancelled' and the VM stays on its source.
   */
  migrate(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    hooks?: LaunchHooks,
  ): Promise<MigrationOutcome>;
  /**
   * After a crash: the migration was 'running' when the process died. Says where the VM is now;
   * on 'unknown' the engine retries or fails the migration.
   */
  reconcile(job: MigrationJob): Promise<VmLocation>;
  /**
   * Drivers whose work outlives the service: waits while the work behind the handle still runs,
   * stopping it when the signal aborts (cancel). Resolves once it is gone; the engine then reconciles.
   */
  adopt?(
    job: MigrationJob,
    handle: MigrationHandle,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    options: AdoptOptions,
  ): Promise<AdoptedEnd>;
  /** The work a crash interrupted before its handle was stored, if it still runs. */
  findLaunched?(job: MigrationJob): Promise<MigrationHandle | null>;
}
