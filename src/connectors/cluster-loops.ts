// What the connector loops (connector-loops.ts) keep per cluster: the connector its loops and
// migrations share, the loops' own state, and how an error that is not a host's is reported.
import { DomainError } from '../common/domain-error';
import { ConnectorError, type UnreachableHost } from './connector';
import type { LoopName, LoopProblems } from './connector-health';
import type { LiveConnector } from './connector-config';
import type { ConnectorState } from './connector.entity';

/**
 * A cluster's connector, shared by its loops and the migrations it carries out: disposed (its
 * credentials file removed) once nobody holds it, so that a migration outlives a PUT or a shutdown.
 */
export class SharedConnector {
  private holders = 1;

  constructor(readonly live: LiveConnector) {}

  /** One more holder; the function releases it (once). */
  hold(): () => Promise<void> {
    this.holders++;
    let released = false;
    return () => {
      if (released) return Promise.resolve();
      released = true;
      return this.release();
    };
  }

  release(): Promise<void> {
    return --this.holders === 0 ? this.live.dispose() : Promise.resolve();
  }
}

export interface ClusterLoops {
  clusterId: string;
  shared: SharedConnector;
  abort: AbortController;
  timers: Map<LoopName, NodeJS.Timeout>;
  running: Set<Promise<void>>;
  problems: LoopProblems;
  state: ConnectorState;
  lastError: string | null;
  /** VMs of the last sync: samples of others would be refused (they are not in the inventory yet). */
  knownVms: Set<string> | null;
  lastSynced: string | null;
  unchangedSyncs: number;
  /** The platform's rules as last imported (JSON), so that unchanged rules are not written again. */
  lastRules: string | null;
  /** Why the platform balances the cluster itself (DRS on), or null. */
  balancedBy: string | null;
  /** The platform's notes from the last sync. */
  notes: string[];
  /** Whether this loop has stored the platform's view yet (null: not since it started). */
  platformStored: true | null;
  /** The collection loop has started (after the first sync). */
  collecting: boolean;
  /** Hosts this connector put in maintenance because the platform has them there. */
  platformMaintenance: Set<string>;
  stopped: boolean;
}

/** Why a problem that is not a host's: the connector as a whole, or the inventory refusing what was found. */
export function problemOf(error: unknown): UnreachableHost {
  if (error instanceof ConnectorError) return { host: error.host ?? 'connector', error: error.message };
  if (error instanceof DomainError) {
    const first = error.errors[0]?.message;
    return { host: 'inventory', error: `${error.message}${first ? ` (${first})` : ''}` };
  }
  return { host: 'connector', error: error instanceof Error ? error.message : String(error) };
}
