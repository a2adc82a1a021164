// The migration engine's port to its storage: the SQL implementation is migration-queue.repository.ts,
// an in-memory one backs the engine's unit tests.
import type { HostRef, Parties, RecordedEnd, VmRef } from './attempt-outcome';
import type { MigrationHandle, MigrationProgress } from './drivers';
import type { LiveMigrationEntity } from './live-migration.entity';
import type { SlotClaim } from './slots';

export interface WithParties extends Parties {
  migration: LiveMigrationEntity;
}

/** A migration the claim moved to `running`, with the number of the attempt it starts. */
export interface Claimed {
  migration: LiveMigrationEntity;
  attempt: number;
  vm: VmRef;
  source: HostRef;
  target: HostRef;
}

export interface ClaimResult {
  started: Map<string, Claimed>;
  /** Those that ended instead of starting: cancelled meanwhile, or unable to start (error). */
  ended: { migration: LiveMigrationEntity; state: 'cancelled' | 'failed'; error: string | null }[];
}

/** The concurrency caps a cluster policy sets, where it sets any. */
export interface PolicyCaps {
  clusterId: string;
  perHost?: number;
  perCluster?: number;
}

/**
 * How an end was written: `failed` with an error when a success could not be recorded as one; `fenced` when
 * it was not written because another replica owns the cluster now (it settles the migration itself).
 */
export type WrittenEnd = { state: RecordedEnd['state'] | 'running'; error: string | null; fenced?: boolean };

export abstract class MigrationQueue {
  abstract policyCaps(): Promise<PolicyCaps[]>;
  /**
   * Queued migrations due at `nowMs`, best priority then oldest first, none touching a full host or cluster;
   * of the given clusters only (null: of any).
   */
  abstract due(
    nowMs: number,
    full: { hostIds: string[]; clusterIds: string[] },
    limit: number,
    clusters: string[] | null,
  ): Promise<SlotClaim[]>;
  /**
   * Moves the given migrations from queued to running in one transaction; those that can no longer
   * start fail instead, those asked to cancel are cancelled, those no longer queued are skipped.
   */
  /** Starts the given migrations (id → the name of the driver that runs the attempt) that may still start. */
  abstract claim(driverNames: ReadonlyMap<string, string>, nowMs: number): Promise<ClaimResult>;
  /** Stores the handle of the work started for a running migration (of that attempt, when given); false when it no longer runs. */
  abstract recordHandle(id: string, clusterId: string, attempt: number | null, handle: MigrationHandle, nowMs: number): Promise<boolean>;
  abstract recordProgress(id: string, clusterId: string, attempt: number, progress: MigrationProgress, nowMs: number): Promise<void>;
  /** Ends a running attempt (tried again a few times when the write fails). */
  abstract recordEnd(migration: LiveMigrationEntity, end: RecordedEnd, nowMs: number): Promise<WrittenEnd>;
  /** When the earliest queued retry later than `nowMs` is due, if any. */
  abstract nextRetryAt(nowMs: number): Promise<number | null>;
  /** Migrations a previous run (or the cluster's previous owner) left `running`, oldest first; of one cluster, or of all (null). */
  abstract leftRunning(clusterId: string | null): Promise<LiveMigrationEntity[]>;
  abstract withParties(id: string): Promise<WithParties>;
  /** Of the given running migrations, those whose cancel was asked (through any replica). */
  abstract cancelRequested(ids: string[]): Promise<string[]>;
  /** Mean dirty rate of the VM's samples since `sinceMs`, when it reports one. */
  abstract dirtyRate(vm: VmRef, sinceMs: number): Promise<number | undefined>;
  /** Resolves once every write accepted so far is done. */
  abstract drain(): Promise<void>;
}
