// Concurrency accounting of the dispatcher: which running migrations hold which host and cluster slots.

export interface SlotClaim {
  id: string;
  clusterId: string;
  vmId: string;
  sourceHostId: string;
  targetHostId: string;
}

export interface SlotLimits {
  /** Running migrations per host, counting both the migrations it sends and those it receives. */
  perHost: number;
  perCluster: number;
}

/** Who holds what. A migration takes one slot on its source, one on its target and one in its cluster. */
export class SlotBook {
  private readonly held = new Map<string, SlotClaim>();
  private readonly hosts = new Map<string, number>();
  private readonly clusters = new Map<string, number>();
  private readonly vms = new Set<string>();
  /** Host → its cluster, for the host cap of the cluster's policy. */
  private readonly hostCluster = new Map<string, string>();
  private perClusterLimits = new Map<string, SlotLimits>();

  /** `defaults` apply to clusters whose policy sets no caps of its own. */
  constructor(private readonly defaults: SlotLimits) {}

  /** Caps set by cluster policies; takes effect for the next migration to start. */
  setClusterLimits(limits: Map<string, SlotLimits>): void {
    this.perClusterLimits = limits;
  }

  limitsOf(clusterId: string | undefined): SlotLimits {
    return (clusterId && this.perClusterLimits.get(clusterId)) || this.defaults;
  }

  /** Why the migration cannot start now, or null when it can. */
  blocker(claim: SlotClaim): string | null {
    if (this.held.has(claim.id)) return 'already running';
    if (this.vms.has(claim.vmId)) return 'its VM is already migrating';
    const limits = this.limitsOf(claim.clusterId);
    if (this.clusterLoad(claim.clusterId) >= limits.perCluster) return 'the cluster is at its cap';
    if (this.hostLoad(claim.sourceHostId) >= limits.perHost) return 'the source host is at its cap';
    if (this.hostLoad(claim.targetHostId) >= limits.perHost) return 'the target host is at its cap';
    return null;
  }

  take(claim: SlotClaim): void {
    const blocker = this.blocker(claim);
    if (blocker) throw new Error(`migration ${claim.id} cannot take a slot: ${blocker}`);
    this.held.set(claim.id, claim);
    this.vms.add(claim.vmId);
    this.hostCluster.set(claim.sourceHostId, claim.clusterId);
    this.hostCluster.set(claim.targetHostId, claim.clusterId);
    bump(this.clusters, claim.clusterId, 1);
    bump(this.hosts, claim.sourceHostId, 1);
    bump(this.hosts, claim.targetHostId, 1);
  }

  release(id: string): void {
    const claim = this.held.get(id);
    if (!claim) return;
    this.held.delete(id);
    this.vms.delete(claim.vmId);
    bump(this.clusters, claim.clusterId, -1);
    bump(this.hosts, claim.sourceHostId, -1);
    bump(this.hosts, claim.targetHostId, -1);
  }

  hostLoad(hostId: string): number {
    return this.hosts.get(hostId) ?? 0;
  }

  clusterLoad(clusterId: string): number {
    return this.clusters.get(clusterId) ?? 0;
  }

  /** Hosts and clusters with no free slot: nothing touching them can start. */
  full(): { hostIds: string[]; clusterIds: string[] } {
    return {
      hostIds: [...this.hosts].filter(([id, n]) => n >= this.limitsOf(this.hostCluster.get(id)).perHost).map(([id]) => id),
      clusterIds: [...this.clusters].filter(([id, n]) => n >= this.limitsOf(id).perCluster).map(([id]) => id),
    };
  }

  get size(): number {
    return this.held.size;
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}

const MAX_BACKOFF_MS = 3_600_000;

/** Wait before attempt `attempt + 1` after `attempt` failed attempts: the base, doubling, capped at an hour. */
export function retryDelayMs(baseSeconds: number, failedAttempts: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  return Math.min(MAX_BACKOFF_MS, baseSeconds * 1000 * 2 ** Math.min(exponent, 30));
}
