// What the libvirt migration driver asks the hosts while a migration runs and after it: the job on
// the source, the completed job's figures, and where the domain is (see migration-decisions.ts).
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../../live-migration/drivers/progress';
import { ConnectorError } from '../connector';
import { decideLocation, type HostView, type LocationDecision } from './migration-decisions';
import type { Virsh } from './virsh';
import { parseDomJobInfo, parseDomState, type DomJobInfo } from './virsh-parse';

const QUERY_TIMEOUT_MS = 10_000;
/** How often both hosts are asked while the answer is unknown (a job winding down on the source, say), a second apart. */
const LOCATE_ATTEMPTS = 5;
/**
 * An unknown answer that need not be a moment's (a host that could not tell, both or neither running the domain) is
 * asked again too while this much time has gone by since the first question: on a loaded host a query fails now and
 * then, and right after an aborted migration the hosts' states change within a second or two. A host that does not
 * answer at all takes QUERY_TIMEOUT_MS per question, past this, and is not asked again.
 */
const LOCATE_UNSURE_MS = 3000;

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

/** Asks both hosts (and the source whether a job is active); a job that is just ending gets a few seconds. */
export async function locateDomain(domain: string, source: Virsh, target: Virsh): Promise<LocationDecision> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const [sourceView, targetView, active] = await Promise.all([
      hostView(source, domain),
      hostView(target, domain),
      source
        .run(['domjobinfo', domain], { timeoutMs: QUERY_TIMEOUT_MS })
        .then((text) => parseDomJobInfo(text).type === 'Unbounded')
        .catch((error: unknown) => (error instanceof ConnectorError && error.reason === 'not-found' ? false : null)),
    ]);
    const decision = decideLocation(sourceView, targetView, active);
    // Unknown for a moment only (a job winding down, a source resuming its paused guest after an abort), or maybe
    // (LOCATE_UNSURE_MS): both hosts are asked again, a second apart, before it is the answer.
    const again = decision.passing || performance.now() - started < LOCATE_UNSURE_MS;
    if (decision.location !== 'unknown' || !again || attempt >= LOCATE_ATTEMPTS) return decision;
    await delay(1000);
  }
}
