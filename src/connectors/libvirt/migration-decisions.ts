// The libvirt migration driver's decisions, as pure functions: the `virsh migrate` it runs, where a
// domain is after a migration ended (or was interrupted), whether a leftover must go, and how a
// running job reads as progress.
import type { MigrationProgress, VmLocation } from '../../live-migration/drivers/migration-driver';
import type { DomJobInfo } from './virsh-parse';

/** What one host said about the domain: `domstate --reason`, or that it has no such domain, or that it could not tell. */
export type HostView = { kind: 'present'; state: string; reason: string | null } | { kind: 'absent' } | { kind: 'unknown'; error: string };

/**
 * The paused, transient copy an incoming migration leaves on its destination when the job ends without
 * a switch-over (the client died): "paused (migrating)". It holds the guest's memory until destroyed.
 */
export function isIncomingLeftover(view: HostView): boolean {
  return view.kind === 'present' && view.state === 'paused' && view.reason === 'migrating';
}

/** The guest executes there (or was paused there by someone): libvirt's running, idle, in shutdown, paused for another reason, pmsuspended. */
export function runsOn(view: HostView): boolean {
  if (view.kind !== 'present') return false;
  if (view.state === 'paused') return view.reason !== 'migrating';
  return ['running', 'idle', 'in shutdown', 'pmsuspended'].includes(view.state);
}

function definedOff(view: HostView): boolean {
  return view.kind === 'present' && view.state === 'shut off';
}

export interface LocationDecision {
  location: VmLocation;
  /** Destroy the domain's paused leftover on the target (it would block the next migration there). */
  destroyTargetLeftover: boolean;
  why: string;
  /** Unknown for now only: a job still winding down, or a source guest paused by the migration (resumed after an abort). */
  passing?: boolean;
}

/**
 * Where the domain of a migration is, from both hosts' answers and whether a migration job is still
 * active on the source (null: the source could not tell).
 */
export function decideLocation(source: HostView, target: HostView, sourceJobActive: boolean | null): LocationDecision {
  const unknown = (why: string): LocationDecision => ({ location: 'unknown', destroyTargetLeftover: false, why });
  if (source.kind === 'unknown') return unknown(`the source could not tell: ${source.error}`);
  if (target.kind === 'unknown') return unknown(`the target could not tell: ${target.error}`);
  if (sourceJobActive === null) return unknown('the source could not tell whether a migration job is active');
  // A live job may still switch over: neither answer is final, and the target's paused copy is the job's own.
  if (sourceJobActive) return { ...unknown('a migration job is still active on the source'), passing: true };
  const onSource = runsOn(source);
  const onTarget = runsOn(target);
  if (onSource && onTarget) return unknown('both hosts run the domain');
  if (onTarget) return { location: 'target', destroyTargetLeftover: false, why: 'the target runs the domain' };
  if (onSource) {
    const leftover = isIncomingLeftover(target);
    return {
      location: 'source',
      destroyTargetLeftover: leftover,
      why: leftover ? 'the source runs the domain; the target holds a paused leftover' : 'the source runs the domain',
    };
  }
  // Nobody runs it: a stopped domain is where it is defined.
  if (definedOff(source) && !definedOff(target)) {
    return { location: 'source', destroyTargetLeftover: isIncomingLeftover(target), why: 'the domain is defined, shut off, on the source' };
  }
  if (definedOff(target) && source.kind === 'absent')
    return { location: 'target', destroyTargetLeftover: false, why: 'the domain is defined, shut off, on the target' };
  // The source still has it, paused: after an aborted migration it resumes it in a moment.
  if (source.kind === 'present' && source.state === 'paused')
    return { ...unknown('no host runs the domain (paused on the source)'), passing: true };
  return unknown('no host runs the domain');
}

/**
 * A running job's figures as progress. `previousPercent` keeps the percentage from going back (the
 * remainder grows again when the guest dirties memory faster than it is sent); 100 is kept for success.
 */
export function jobProgress(job: DomJobInfo, previousPercent: number): MigrationProgress | null {
  if (job.type !== 'Unbounded' || job.processedMib === undefined || job.remainingMib === undefined) return null;
  const seen = job.processedMib + job.remainingMib;
  const percent = Math.max(previousPercent, Math.min(99, seen > 0 ? (100 * job.processedMib) / seen : 0));
  const netMibPerSecond = (job.bandwidthMibPerSecond ?? 0) - (job.dirtyRateMibPerSecond ?? 0);
  return {
    percent,
    round: Math.max(0, (job.iteration ?? 1) - 1),
    copiedMib: job.processedMib,
    remainingMib: job.remainingMib,
    // Not converging (the guest dirties as fast as the link sends): no honest estimate.
    etaSeconds: netMibPerSecond > 0 ? job.remainingMib / netMibPerSecond : null,
  };
}

/** The arguments of `virsh migrate` after `-c <source uri>`. */
export function migrateArgs(domain: string, targetUri: string, migrationAddress: string, bandwidthMibPerSecond: number | null): string[] {
  const address = migrationAddress.includes(':') && !migrationAddress.startsWith('[') ? `[${migrationAddress}]` : migrationAddress;
  return [
    'migrate',
    '--live',
    '--p2p',
    '--persistent',
    '--undefinesource',
    // Named options: a domain or URI is never read as anything else.
    '--domain',
    domain,
    '--desturi',
    targetUri,
    // Without it the target offers its hostname for the data stream, which the source may not resolve.
    '--migrateuri',
    `tcp://${address}`,
    ...(bandwidthMibPerSecond !== null ? ['--bandwidth', String(bandwidthMibPerSecond)] : []),
  ];
}
