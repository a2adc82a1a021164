// Whether a cluster's connector is ok or degraded, decided from what the last sync and the last
// collection each reported. Pure: the loops feed it, the service writes what it returns.
import type { ConnectorState } from './connector.entity';
import type { UnreachableHost } from './connector';

export type LoopName = 'sync' | 'collect';

/** What each loop's last round found wrong (empty: all hosts answered); a loop that has not run yet is left out. */
export type LoopProblems = Partial<Record<LoopName, UnreachableHost[]>>;

export interface Health {
  state: ConnectorState;
  /** Every host in trouble, each once, as "host: error; host: error"; null when ok. */
  lastError: string | null;
  /** The event to record for this change: once per transition, none while the state stays. */
  transition: 'degraded' | 'recovered' | null;
}

const MAX_ERROR = 2000;

/** "host: error", the host once: a connector's errors (ConnectorError messages) usually name it already. */
export function describeProblem({ host, error }: UnreachableHost): string {
  return error.startsWith(`${host}: `) ? error : `${host}: ${error}`;
}

export function describeProblems(problems: readonly UnreachableHost[]): string {
  const text = problems.map(describeProblem).join('; ');
  return text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR - 1)}…` : text;
}

/**
 * Degraded while either loop's last round had a host that did not answer (or failed as a whole);
 * ok once every loop that has run got an answer from every host. `unknown` stays until a loop reports.
 */
export function nextHealth(current: ConnectorState, loops: LoopProblems): Health {
  const reported = Object.values(loops);
  if (reported.length === 0) return { state: current, lastError: null, transition: null };
  const byHost = new Map<string, UnreachableHost>();
  for (const problem of reported.flat()) if (!byHost.has(problem.host)) byHost.set(problem.host, problem);
  if (byHost.size === 0) return { state: 'ok', lastError: null, transition: current === 'degraded' ? 'recovered' : null };
  return { state: 'degraded', lastError: describeProblems([...byHost.values()]), transition: current === 'degraded' ? null : 'degraded' };
}
