// Which clusters this replica acts on. On PostgreSQL several replicas share the database: each cluster's
// passes, connector loops and migrations run on the one replica holding its lease (leases.repository.ts),
// renewed every LEASE_RENEW_MS; the clusters are shared out evenly among the replicas alive, and those of a
// replica that stopped are taken over once its leases run out. A SQLite file has one process: it owns all.
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { Gauge } from 'prom-client';
import { EntityManager } from 'typeorm';
import { ServerSettings } from '../common/server.settings';
import { Database } from '../database/database.service';
import { METRIC_PREFIX, PrometheusRegistry } from '../observability/prometheus-registry';
import { clusterIds } from '../inventory/inventory.repository';
import {
  acquireLease,
  allLeases,
  allReplicas,
  databaseNow,
  dropLeases,
  forgetReplicas,
  heartbeat,
  holdsLease,
  LeaseRow,
  releaseLease,
  renewLeases,
  ReplicaRow,
} from './leases.repository';
import { ReplicasSettings } from './replicas.settings';

/** What a module does when this replica starts or stops owning a cluster. */
export interface OwnershipListener {
  /** Take up the cluster's work (settle what its previous owner left running, start its loops). */
  acquired(clusterId: string): Promise<void> | void;
  /** Stop acting on the cluster; resolves once nothing of it runs here any more. */
  lost(clusterId: string): Promise<void> | void;
}

/** Replicas silent for this many lease periods are no longer listed. */
const FORGET_AFTER_LEASES = 30;

@Injectable()
export class ClusterOwnership implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Replicas');
  /** Several replicas may share the database (PostgreSQL): leases decide; otherwise this process owns every cluster. */
  readonly shared: boolean;
  readonly replicaId: string;
  readonly startedAt = Date.now();
  /** Cluster → the epoch of the lease this replica holds on it. */
  private readonly held = new Map<string, number>();
  private readonly listeners: OwnershipListener[] = [];
  /**
   * The listeners hear of changes in order, one at a time, on this chain, never inside a renewal: taking a cluster
   * over (settling what its previous owner left running) may take longer than a lease, and the leases must be
   * renewed meanwhile.
   */
  private changes: Promise<void> = Promise.resolve();
  /** Clusters whose `acquired` the listeners have heard (and no `lost` since). */
  private readonly announced = new Set<string>();
  /** Clusters handed over: their lease rows are still this replica's until the listeners have stopped. */
  private readonly releasing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  private stopped = false;
  /** performance.now() of the last renewal the database took: past a lease period without one, this replica stops acting. */
  private renewedAt = performance.now();
  /** The replicas and leases as the last look at the database found them (for /replicas and /metrics). */
  private lastSeen: { replicas: ReplicaRow[]; leases: LeaseRow[]; at: number } = { replicas: [], leases: [], at: 0 };
  /** The clusters with a lease row as last seen (held or not). */
  private leased = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly settings: ReplicasSettings,
    server: ServerSettings,
    prometheus: PrometheusRegistry,
  ) {
    this.shared = db.dialect === 'postgres';
    this.replicaId = settings.REPLICA_NAME || `${hostname()}:${server.PORT}`;
    const replica = this.replicaId;
    new Gauge({
      name: `${METRIC_PREFIX}replica_info`,
      help: 'This replica: its name and whether it shares the database with others (shared) or owns every cluster (single)',
      labelNames: ['replica', 'mode'],
      registers: [prometheus.registry],
      collect: function () {
        this.reset();
        this.set({ replica, mode: db.dialect === 'postgres' ? 'shared' : 'single' }, 1);
      },
    });
    const held = this.held;
    const shared = this.shared;
    new Gauge({
      name: `${METRIC_PREFIX}cluster_owned`,
      help: "1 for each cluster whose passes, connector loops and migrations this replica runs (its lease's epoch aside); none on SQLite, where one process owns all",
      labelNames: ['cluster_id', 'replica'],
      registers: [prometheus.registry],
      // Of the clusters that still exist: one deleted since the last renewal is gone from the series at once.
      collect: async function () {
        const existing = shared && held.size > 0 ? new Set(await clusterIds(db.reader)) : new Set<string>();
        this.reset();
        for (const id of held.keys()) if (existing.has(id)) this.set({ cluster_id: id, replica }, 1);
      },
    });
    if (this.shared && settings.LEASE_RENEW_MS * 3 > settings.LEASE_TTL_MS) {
      throw new Error(
        `LEASE_RENEW_MS (${settings.LEASE_RENEW_MS}) must be at most a third of LEASE_TTL_MS (${settings.LEASE_TTL_MS}): a lease must survive a missed renewal`,
      );
    }
  }

  get leaseTtlMs(): number {
    return this.settings.LEASE_TTL_MS;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.shared) return;
    await this.tick();
    this.timer = setInterval(() => this.nudge(), this.settings.LEASE_RENEW_MS);
    this.timer.unref();
  }

  /**
   * Hands every lease back, so that the other replicas take the clusters over at once rather than after a lease
   * period (a rolling upgrade moves each cluster in seconds). While the database is still open: whatever this
   * replica would write about them afterwards is fenced, and the new owner settles it as after a crash.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    if (!this.shared) return;
    const held = [...this.held];
    for (const [id] of held) this.drop(id, 'shutdown');
    await this.changes;
    if (held.length > 0) await this.release(held);
  }

  /** Hands the leases back (expired at once); those that cannot be run out by themselves. */
  private release(leases: [string, number][]): Promise<void> {
    return this.db
      .transaction(
        async (m) => {
          for (const [clusterId, epoch] of leases) await releaseLease(m, clusterId, this.replicaId, epoch);
        },
        { affects: [], unqueued: true, readCommitted: true },
      )
      .catch((err: unknown) => this.logger.warn({ err }, 'could not hand leases back: they run out by themselves'));
  }

  /**
   * Registers a module's reaction to ownership changes, and tells it at once of the clusters already owned.
   * Call it from onApplicationBootstrap, once the module is ready to act.
   */
  listen(listener: OwnershipListener): Promise<void> {
    return this.later(async () => {
      this.listeners.push(listener);
      for (const clusterId of [...this.announced]) await this.tell(listener, 'acquired', clusterId);
    });
  }

  /** True when this replica is to act on the cluster. */
  owns(clusterId: string): boolean {
    return !this.shared || this.held.has(clusterId);
  }

  /** The clusters this replica owns; null: every cluster (a single process on SQLite). */
  owned(): string[] | null {
    return this.shared ? [...this.held.keys()] : null;
  }

  /**
   * True when a write acting on the cluster must not be made: this replica no longer holds its lease at the epoch it
   * took it with, on the database's clock, read inside the write's transaction (fencing).
   */
  async fenced(m: EntityManager, clusterId: string): Promise<boolean> {
    if (!this.shared) return false;
    const epoch = this.held.get(clusterId);
    return epoch === undefined || !(await holdsLease(m, clusterId, this.replicaId, epoch));
  }

  /**
   * True when this replica is to act on the cluster. A cluster no replica has a lease on yet (just created) makes it
   * look at the leases at once, rather than at its next renewal.
   */
  ownsOrClaims(clusterId: string): boolean {
    if (this.owns(clusterId)) return true;
    if (!this.leased.has(clusterId)) this.nudge();
    return false;
  }

  /** True when this replica owns the cluster or no replica has a lease on it yet (it may be this one's in a moment). */
  mayOwn(clusterId: string): boolean {
    return this.owns(clusterId) || !this.leased.has(clusterId);
  }

  /** Looks at the leases soon (a cluster was created, work was queued for one nobody may own yet). */
  nudge(): void {
    if (!this.shared || this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.tickAgain) {
        this.tickAgain = false;
        this.nudge();
      }
    });
  }

  /** The replicas and leases as last seen, for /replicas and /metrics. */
  view(): { replicas: ReplicaRow[]; leases: LeaseRow[]; at: number } {
    return this.lastSeen;
  }

  /** One look: heartbeat, renew, notice leases lost, take a fair share of the clusters, hand back what is above it. */
  private async tick(): Promise<void> {
    const ttl = this.settings.LEASE_TTL_MS;
    let outcome: { lost: string[]; acquired: [string, number][]; excess: [string, number][] };
    try {
      outcome = await this.db.transaction(
        async (m) => {
          const now = await databaseNow(m);
          await heartbeat(m, { id: this.replicaId, hostname: hostname(), pid: process.pid, startedAt: this.startedAt, heartbeatAt: now });
          await renewLeases(m, this.replicaId, now, now + ttl);
          await forgetReplicas(m, now - FORGET_AFTER_LEASES * ttl);
          const clusters = new Set(await clusterIds(m));
          let leases = await allLeases(m);
          await dropLeases(
            m,
            leases.filter((l) => !clusters.has(l.clusterId)).map((l) => l.clusterId),
          );
          leases = leases.filter((l) => clusters.has(l.clusterId));
          const replicas = await allReplicas(m);
          const mine = new Map(
            leases
              .filter((l) => l.replicaId === this.replicaId && Number(l.expiresAt) > now && !this.releasing.has(l.clusterId))
              .map((l) => [l.clusterId, Number(l.epoch)]),
          );
          const lost = [...this.held].filter(([id, epoch]) => mine.get(id) !== epoch).map(([id]) => id);
          // Leases that are this replica's from before a restart (same name): taken back with a new epoch.
          const acquired: [string, number][] = [];
          for (const [id, epoch] of mine) {
            if (this.held.get(id) === epoch) continue;
            const taken = await acquireLease(m, id, this.replicaId, now, now + ttl);
            if (taken !== null) acquired.push([id, taken]);
            mine.delete(id);
          }
          const alive = replicas.filter((r) => Number(r.heartbeatAt) > now - ttl).length;
          const share = Math.ceil(clusters.size / Math.max(1, alive));
          let count = mine.size + acquired.length;
          const leased = new Map(leases.map((l) => [l.clusterId, l]));
          const free = [...clusters].filter((id) => {
            const lease = leased.get(id);
            // Run out, or handed back (this replica's own included, from before a restart), unless being handed back now.
            return !lease || (Number(lease.expiresAt) <= now && !this.releasing.has(id) && !mine.has(id));
          });
          // Replicas looking at once start from different clusters: fewer of them go for the same lease.
          free.sort((a, b) => spread(a, this.replicaId) - spread(b, this.replicaId));
          for (const id of free) {
            if (count >= share) break;
            const taken = await acquireLease(m, id, this.replicaId, now, now + ttl);
            if (taken === null) continue;
            acquired.push([id, taken]);
            count++;
          }
          const kept = [...mine].filter(([id]) => !lost.includes(id));
          const excess = count > share ? kept.sort(([a], [b]) => a.localeCompare(b)).slice(0, count - share) : [];
          this.lastSeen = { replicas, leases: await allLeases(m), at: now };
          this.leased = new Set(this.lastSeen.leases.map((l) => l.clusterId));
          return { lost, acquired, excess };
        },
        { affects: [], unqueued: true, readCommitted: true },
      );
      this.renewedAt = performance.now();
    } catch (err) {
      this.logger.warn({ err }, 'could not renew the leases');
      // Past a lease period without renewal another replica may own these clusters by now: stop acting on them.
      if (performance.now() - this.renewedAt >= ttl)
        for (const id of [...this.held.keys()]) this.drop(id, 'its leases could not be renewed');
      return;
    }
    for (const id of outcome.lost) this.drop(id, 'its lease was taken over');
    for (const [id, epoch] of outcome.acquired) {
      this.held.set(id, epoch);
      this.logger.log({ clusterId: id, epoch }, 'cluster acquired');
      void this.later(async () => {
        if (this.held.get(id) !== epoch) return; // Lost again before the listeners heard of it.
        this.announced.add(id);
        for (const listener of this.listeners) await this.tell(listener, 'acquired', id);
      });
    }
    if (outcome.excess.length > 0 && !this.stopped) this.handOver(outcome.excess);
  }

  /** Runs `step` once every change before it has been heard. */
  private later(step: () => Promise<void>): Promise<void> {
    const next = this.changes.then(step).catch((err: unknown) => this.logger.error({ err }, 'reacting to an ownership change failed'));
    this.changes = next;
    return next;
  }

  /** Stops acting on clusters above this replica's share, then lets them go: the replicas below their share take them. */
  private handOver(excess: [string, number][]): void {
    for (const [id] of excess) {
      this.releasing.add(id);
      this.drop(id, 'handed over: another replica has fewer clusters');
    }
    void this.later(async () => {
      await this.release(excess);
      for (const [id] of excess) this.releasing.delete(id);
    });
  }

  /** This replica acts on the cluster no more from now on; the listeners stop what runs of it in their turn. */
  private drop(clusterId: string, why: string): void {
    if (!this.held.delete(clusterId)) return;
    this.logger.log({ clusterId }, `cluster no longer owned: ${why}`);
    void this.later(async () => {
      if (!this.announced.delete(clusterId)) return;
      for (const listener of this.listeners) await this.tell(listener, 'lost', clusterId);
    });
  }

  private async tell(listener: OwnershipListener, what: 'acquired' | 'lost', clusterId: string): Promise<void> {
    try {
      await listener[what](clusterId);
    } catch (err) {
      this.logger.error({ err, clusterId }, `reacting to a cluster ${what} failed`);
    }
  }
}

/** A number from the cluster and replica ids: each replica goes through the free clusters in an order of its own. */
function spread(clusterId: string, replicaId: string): number {
  let h = 2166136261;
  for (const ch of clusterId + replicaId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}
