// The migration engine's decisions, as plain functions of the migration, what the driver answered, the
// settings and the time: how an attempt ends, what a restart does with a migration left running, how a
// cancel is carried out. No I/O here: the dispatch loop and recovery act on what these return.
import type { HostRef, VmRef } from '../inventory/inventory.repository';
import type { AdoptedEnd, MigrationHandle, MigrationOutcome, VmLocation } from './drivers';
import type { LiveMigrationEntity, MigrationState } from './live-migration.entity';
import type { MigrationEngineSettings } from './migration-settings';
import { retryDelayMs } from './slots';

export type SucceededOutcome = Extract<MigrationOutcome, { status: 'succeeded' }>;

/** The VM and hosts of a migration as the engine needs them; null where deleted from the inventory. */
export type { HostRef, VmRef };

export interface Parties {
  vm: VmRef | null;
  source: HostRef | null;
  target: HostRef | null;
}

type Row = Pick<
  LiveMigrationEntity,
  'id' | 'vmId' | 'sourceHostId' | 'targetHostId' | 'attempts' | 'maxAttempts' | 'cancelRequestedAt' | 'handle' | 'driver' | 'startedAt'
>;

/** How an attempt ends. `running`: nothing is written, the next start adopts or reconciles it. */
export type AttemptEnd =
  | { state: 'succeeded'; outcome: SucceededOutcome | null; note: string | null }
  | { state: 'failed' | 'cancelled'; error: string | null }
  /** Back to the queue for another attempt, from `nextAttemptAt` (null: as soon as a slot is free). */
  | { state: 'queued'; error: string; nextAttemptAt: number | null }
  | { state: 'running'; because: 'detached' | 'shutdown' };

/** An end that is written to the database. */
export type RecordedEnd = Exclude<AttemptEnd, { state: 'running' }>;

// ---- leaving the queue -------------------------------------------------------------------------

export type ClaimDecision =
  { start: true } | { start: false; state: 'cancelled'; error: null } | { start: false; state: 'failed'; error: string };

/** What becomes of a queued migration picked to start: it starts, or ends without starting. */
export function claimDecision(
  migration: Pick<Row, 'cancelRequestedAt' | 'sourceHostId' | 'targetHostId'>,
  parties: Parties,
): ClaimDecision {
  // Asked to cancel while an attempt was ending and went back to the queue.
  if (migration.cancelRequestedAt !== null) return { start: false, state: 'cancelled', error: null };
  const refusal = startRefusal(migration, parties);
  return refusal ? { start: false, state: 'failed', error: refusal } : { start: true };
}

/** Why a queued migration can no longer start, or null. Checked when it leaves the queue. */
function startRefusal(migration: Pick<Row, 'sourceHostId' | 'targetHostId'>, { vm, source, target }: Parties): string | null {
  if (!vm) return 'its VM was deleted while the migration was queued';
  if (!target) return 'its target host was deleted while the migration was queued';
  if (vm.hostId === migration.targetHostId) return `${vm.name} already runs on ${target.name}`;
  if (vm.hostId !== migration.sourceHostId || !source) return `${vm.name} moved to another host while the migration was queued`;
  if (target.state !== 'connected') return `target ${target.name} is ${target.state}`;
  return null;
}

// ---- an attempt this process ran -----------------------------------------------------------------

export interface AttemptFacts {
  /** The attempt's number, 1 for the first. */
  attempt: number;
  maxAttempts: number;
  cancelRequested: boolean;
  /** The engine stopped the attempt at its time limit. */
  timedOut: boolean;
  /** The service is shutting down. */
  stopping: boolean;
}

type EndSettings = Pick<MigrationEngineSettings, 'retryBackoffSeconds' | 'attemptLimitText'>;

/** How an attempt ends, given what the driver's run resolved with. */
export function attemptEnd(facts: AttemptFacts, outcome: MigrationOutcome, settings: EndSettings, nowMs: number): AttemptEnd {
  // A switch-over that won the race against a cancel or the time limit is a success all the same.
  if (outcome.status === 'succeeded') return { state: 'succeeded', outcome, note: null };
  if (outcome.status === 'detached') return { state: 'running', because: 'detached' };
  if (facts.stopping && !facts.cancelRequested) return { state: 'running', because: 'shutdown' };
  let failure: { error: string; transient: boolean };
  if (facts.timedOut) {
    failure = {
      error: `timed out: attempt ${facts.attempt} did not finish within ${settings.attemptLimitText}; the VM stays on its source`,
      transient: false,
    };
  } else if (outcome.status === 'cancelled') {
    if (facts.cancelRequested) return { state: 'cancelled', error: null };
    failure = { error: 'the driver stopped the migration without being asked to', transient: true };
  } else {
    failure = { error: outcome.error, transient: outcome.transient };
  }
  if (facts.cancelRequested) return { state: 'cancelled', error: failure.error };
  if (failure.transient && facts.attempt < facts.maxAttempts) {
    return { state: 'queued', error: failure.error, nextAttemptAt: nowMs + retryDelayMs(settings.retryBackoffSeconds, facts.attempt) };
  }
  return { state: 'failed', error: failure.error };
}

// ---- after a restart ---------------------------------------------------------------------------

/** Work the driver started for this migration may still run and can be followed: look for its handle. */
export function mayAdopt(parties: Parties, driverAdopts: boolean): boolean {
  return driverAdopts && parties.vm !== null && parties.source !== null && parties.target !== null;
}

/** Where the inventory alone says the VM of an interrupted migration is; null when the driver must be asked. */
export function knownLocation(migration: Pick<Row, 'targetHostId'>, { vm, source, target }: Parties): VmLocation | null {
  if (vm && vm.hostId === migration.targetHostId) return 'target';
  if (!vm || !source || !target) return 'unknown';
  return null;
}

type RecoverySettings = Pick<MigrationEngineSettings, 'retryBackoffSeconds'>;

/**
 * How a migration left `running` by a crash or a shutdown ends when no work of it is followed.
 * `driverLocation` is the driver's answer, used when the inventory alone cannot tell (see knownLocation).
 */
export function interruptedEnd(
  migration: Row,
  parties: Parties,
  driverLocation: VmLocation,
  driverName: string,
  settings: RecoverySettings,
  nowMs: number,
): RecordedEnd {
  const { vm } = parties;
  const onTarget = vm !== null && vm.hostId === migration.targetHostId;
  const missing =
    onTarget || (vm && parties.source && parties.target) ? null : !vm ? 'its VM no longer exists' : 'one of its hosts no longer exists';
  const location = knownLocation(migration, parties) ?? driverLocation;
  // A handle the configured driver cannot follow (the driver was changed): its work may still run.
  const ran = migration.handle
    ? `; the ${migration.driver} driver's work (pid ${migration.handle.pid}) cannot be followed, it may still run`
    : '';
  return recoveredEnd(migration, location, {
    why: `interrupted by a restart during attempt ${migration.attempts}${missing ? `; ${missing}` : ran}`,
    cancelled: migration.cancelRequestedAt !== null,
    // No backoff when nothing ran: the service failed, not the migration.
    retryAt: migration.handle ? nowMs + retryDelayMs(settings.retryBackoffSeconds, migration.attempts) : null,
    whereFrom: onTarget ? 'the inventory already had' : `the ${driverName} driver found`,
    unknownBecause: missing ? null : `the ${driverName} driver could not tell where the VM runs`,
  });
}

/** When the work of an adopted migration is stopped as timed out: its attempt's time limit counts from its start. */
export function adoptedDeadlineMs(migration: Pick<Row, 'startedAt'>, attemptLimitMs: number): number | null {
  return migration.startedAt !== null ? migration.startedAt + attemptLimitMs : null;
}

/** How a migration whose work a restart adopted ends, once that work is gone and the driver said where the VM is. */
export function adoptedEnd(
  migration: Row,
  handle: MigrationHandle,
  ended: Exclude<AdoptedEnd, { status: 'detached' }>,
  location: VmLocation,
  cancelRequested: boolean,
  context: { driverName: string; settings: Pick<MigrationEngineSettings, 'retryBackoffSeconds' | 'attemptLimitText' | 'killSignal'> },
  nowMs: number,
): RecordedEnd {
  const { driverName, settings } = context;
  const hows: Record<typeof ended.status, string> = {
    ended: 'ended',
    cancelled: `was stopped (${settings.killSignal}) as asked`,
    'timed-out': `ran past the time limit (${settings.attemptLimitText}) and was stopped`,
  };
  const output = ended.output ? ` (its last output: ${ended.output.slice(-500)})` : '';
  return recoveredEnd(migration, location, {
    why:
      `interrupted by a restart during attempt ${migration.attempts}; ` +
      `the command it had started (pid ${handle.pid}) ${hows[ended.status]}, its exit status unknown${output}`,
    cancelled: cancelRequested,
    retryAt: nowMs + retryDelayMs(settings.retryBackoffSeconds, migration.attempts),
    whereFrom: `the ${driverName} driver found`,
    unknownBecause: `the ${driverName} driver could not tell where the VM runs`,
  });
}

/** Where a recovered migration's VM is decides how it ends. */
function recoveredEnd(
  migration: Pick<Row, 'attempts' | 'maxAttempts'>,
  location: VmLocation,
  context: { why: string; cancelled: boolean; retryAt: number | null; whereFrom: string; unknownBecause: string | null },
): RecordedEnd {
  const { why } = context;
  // Downtime and duration were not seen: they stay unknown.
  if (location === 'target') return { state: 'succeeded', outcome: null, note: `${why}; ${context.whereFrom} the VM on the target` };
  if (location === 'source') {
    if (context.cancelled) return { state: 'cancelled', error: `${why}; cancelled as asked, the VM stayed on its source` };
    if (migration.attempts < migration.maxAttempts) {
      return { state: 'queued', error: `${why}; the VM stayed on its source, so it runs again`, nextAttemptAt: context.retryAt };
    }
    return { state: 'failed', error: `${why}, its last; the VM stayed on its source` };
  }
  const check = context.unknownBecause
    ? `; ${context.unknownBecause}, so it stays recorded on its source: check it and sync the inventory`
    : '';
  return { state: context.cancelled ? 'cancelled' : 'failed', error: `${why}${context.cancelled ? '; cancelled as asked' : ''}${check}` };
}

// ---- cancel --------------------------------------------------------------------------------------

/**
 * What a cancel does: a queued migration ends cancelled at once; a running one is asked to stop (its
 * driver's work is aborted and the attempt ends later: cancelled, or succeeded if the switch-over won);
 * an ended one cannot be cancelled.
 */
export function cancelAction(state: MigrationState): 'cancel-now' | 'request-stop' | 'already-ended' {
  if (state === 'queued') return 'cancel-now';
  if (state === 'running') return 'request-stop';
  return 'already-ended';
}
