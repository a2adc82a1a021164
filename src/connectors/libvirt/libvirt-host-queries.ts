// What the libvirt migration driver asks the hosts while a migration runs and after it: the job on
// the source, the completed job's figures, and where the domain is (see migration-decisions.ts).
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../../live-migration/drivers/progress';
import { ConnectorError } from '../connector';
import { decideLocation, type HostView, type LocationDecision } from './migration-decisions';
import type { Virsh } from './virsh';
import { parseDomJobInfo, parseDomState, type DomJobInfo } from './virsh-parse';

const QUERY_TIMEOUT_MS = 10_000;
/**
 * How long both hosts are asked again, a second apart, while the answer is unknown for a moment only (a job winding
 * down on the source, a source resuming its paused guest after an abort). On a loaded host an aborted migration has
 * taken more than 5 s to wind down.
 */
const LOCATE_PASSING_MS = 20_000;
/**
 * An unknown answer that need not be a moment's (a host that could not tell, both or neither running the domain) is
 * asked again too while this much time has gone by since the first question: on a loaded host a query fails now and
 * then, and right after an aborted migration the hosts' states change within seconds. A host that does not answer at
 * all takes QUERY_TIMEOUT_MS per question, this long, and is not asked again.
 */
const LOCATE_UNSURE_MS = QUERY_TIMEOUT_MS;

/** The job running on the host for the domain, or null (none, or the host could not tell). */
export async function activeJob(virsh: Virsh, domain: string): Promise<DomJobInfo | null> {
  try {
    return parseDomJobInfo(await virsh.run(['domjobinfo', domain], { timeoutMs: QUERY_TIMEOUT_MS }));
  } catch {
    return null;
  }
}

/** The figures of the domain's last completed job on the host, or null. */
export async function completedJob(virsh: Virsh, domain: string): Promise<DomJobInfo | null> {
  try {
    const job = parseDomJobInfo(await virsh.run(['domjobinfo', '--completed', domain], { timeoutMs: QUERY_TIMEOUT_MS }));
    return job.type === 'Completed' ? job : null;
  } catch {
    return null;
  }
}

/** What one host says of the domain: present (and in which state), absent, or unknown. */
export async function hostView(virsh: Virsh, domain: string): Promise<HostView> {
  try {
    const { state, reason } = parseDomState(await virsh.run(['domstate', '--reason', domain], { timeoutMs: QUERY_TIMEOUT_MS }));
    return { kind: 'present', state, reason };
  } catch (error) {
    if (error instanceof ConnectorError && error.reason === 'not-found') return { kind: 'absent' };
    return { kind: 'unknown', error: errorMessage(error) };
  }
}

/** Asks both hosts (and the source whether a job is active); a job that is just ending gets up to LOCATE_PASSING_MS. */
export async function locateDomain(domain: string, source: Virsh, target: Virsh): Promise<LocationDecision> {
  const started = performance.now();
  for (;;) {
    const [sourceView, targetView, active] = await Promise.all([
      hostView(source, domain),
      hostView(target, domain),
      source
        .run(['domjobinfo', domain], { timeoutMs: QUERY_TIMEOUT_MS })
        .then((text) => parseDomJobInfo(text).type === 'Unbounded')
        .catch((error: unknown) => (error instanceof ConnectorError && error.reason === 'not-found' ? false : null)),
    ]);
    const decision = decideLocation(sourceView, targetView, active);
    // Unknown for a moment only (LOCATE_PASSING_MS), or maybe (LOCATE_UNSURE_MS): both hosts are asked again, a
    // second apart, before it is the answer.
    const again = performance.now() - started < (decision.passing ? LOCATE_PASSING_MS : LOCATE_UNSURE_MS);
    if (decision.location !== 'unknown' || !again) return decision;
    await delay(1000);
  }
}
