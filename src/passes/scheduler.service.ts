import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EntityManager } from 'typeorm';
import { BalancerService } from '../balancer/balancer.service';
import { Clock } from '../common/clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import { isDatabaseUnavailable } from '../database/database-errors';
import { Page } from '../common/pagination';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { HostsService } from '../inventory/hosts.service';
import { clusterIds, countVmsOnHost, hostsInState, requireClusterFound } from '../inventory/inventory.repository';
import { countActiveOnHost } from '../live-migration/migrations.repository';
import { hardRulesFingerprint } from '../rules/rules.repository';
import { PoliciesService } from '../policies/policies.service';
import { RecommendationsService } from '../recommendations/recommendations.service';
import { MetricsRecorder } from '../observability/metrics-recorder';
import { ClusterOwnership } from '../replicas/cluster-ownership';
import { DeferredWrites } from './deferred-writes';
import { PassGuards } from './pass-guards';
import { PlannedPass } from './planned-pass';
import { recordSkipped } from './pass-records';
import { awaitRequest, interruptPasses, lastPassStart, pendingRequests, writeRequest } from './pass-requests';
import { PassesSettings } from './passes.settings';
import { PassEntity, PassTrigger } from './pass.entity';

const TICK_JOB = 'scheduler-tick';
/** How long a replica that does not own a cluster waits for its owner to run a pass asked of it. */
const PASS_REQUEST_WAIT_MS = 60_000;
/** How long a pass asked of a replica that owns the cluster, or may, waits for it to take the cluster's schedule up. */
const READY_WAIT_MS = 3000;

/** A fraction in [0, 1) of the cluster's own, the same on every replica. */
function pointInInterval(clusterId: string): number {
  let h = 2166136261;
  for (const ch of clusterId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return (h >>> 0) / 2 ** 32;
}

/**
 * Runs balancing passes: on each cluster's interval, on demand, when a host enters maintenance and
 * when a hard rule changes. Passes of one cluster run one at a time; a pass never holds a write
 * transaction while it plans or migrates.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  /** Tail of each cluster's chain of passes. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** When each cluster's last pass started (or when the scheduler first saw it). */
  private readonly lastPassAt = new Map<string, number>();
  /** What the hard rules of each cluster looked like at the last tick: a change triggers a pass. */
  private readonly hardRules = new Map<string, string>();
  private ticking = false;
  /** Requested passes (another replica was asked) being run here. */
  private readonly taking = new Set<string>();
  /**
   * Shared database: the clusters this replica owns whose schedule it has taken up (from the passes recorded), so
   * that no pass runs here on what it knew of the cluster before another replica had it. Null: every cluster.
   */
  private readonly ready: Set<string> | null;
  private stopped = false;
  /** Pass records the database could not take when they were made (it was locked or full): written later. */
  private readonly deferred: DeferredWrites;
  private readonly planned: PlannedPass;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: PassesSettings,
    private readonly registry: SchedulerRegistry,
    private readonly balancer: BalancerService,
    private readonly policies: PoliciesService,
    private readonly events: EventsService,
    recommendations: RecommendationsService,
    metrics: MetricsRecorder,
    private readonly hosts: HostsService,
    private readonly guards: PassGuards,
    private readonly ownership: ClusterOwnership,
  ) {
    this.deferred = new DeferredWrites(db, this.logger);
    this.planned = new PlannedPass({
      db,
      clock,
      balancer,
      policies,
      events,
      recommendations,
      metrics,
      logger: this.logger,
      deferred: this.deferred,
      fence: (m, id) => this.fence(m, id),
    });
    this.ready = ownership.shared ? new Set() : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    // A pass is never resumed: one that a crash or a stop interrupted is marked so, and the next pass replans.
    // On a shared database, the passes of a cluster this replica takes over (from itself before a restart, or
    // from a replica that stopped), which the next pass is due after the last one started.
    if (this.ownership.shared) {
      await this.ownership.listen({ acquired: (id) => this.takeOver(id), lost: (id) => this.letGo(id) });
    } else {
      await interruptPasses(this.db, null, 'interrupted: the service stopped during the pass', this.clock.now());
    }
    // Without scheduled passes the ticks still finish maintenance: an evacuated host must not stay entering it.
    const every = this.settings.SCHEDULER_TICK_MS;
    this.registry.addInterval(
      TICK_JOB,
      setInterval(() => void this.tick(), every),
    );
  }

  /** A cluster this replica came to own: what its previous owner left running is over, and its schedule goes on. */
  private async takeOver(clusterId: string): Promise<void> {
    await interruptPasses(this.db, clusterId, 'interrupted: the replica running it stopped or lost the cluster', this.clock.now());
    const last = await lastPassStart(this.db, clusterId);
    if (last !== undefined) {
      this.lastPassAt.set(clusterId, last);
    } else {
      // Never passed: the first pass comes at a point of the interval of the cluster's own, so that clusters created
      // or taken over together (a replica's share, at its start) are not all passed at the same moment.
      const intervalMs = (await this.policies.resolve(clusterId)).passIntervalSeconds * 1000;
      this.lastPassAt.set(clusterId, this.clock.now() - intervalMs + Math.round(intervalMs * pointInInterval(clusterId)));
    }
    this.hardRules.delete(clusterId);
    this.ready?.add(clusterId);
  }

  /** Another replica owns the cluster now: a pass in progress here ends (its writes are fenced once the lease is gone). */
  private async letGo(clusterId: string): Promise<void> {
    this.ready?.delete(clusterId);
    this.lastPassAt.delete(clusterId);
    this.hardRules.delete(clusterId);
    await this.chains.get(clusterId);
  }

  /** The pass is run by the replica owning the cluster; this one waits for its record. */
  private async requestPass(clusterId: string, trigger: PassTrigger, actor: Actor | null): Promise<PassEntity> {
    await requireClusterFound(this.db.reader, clusterId);
    const request = await writeRequest(this.db, clusterId, trigger, this.clock.now(), actor);
    this.ownership.nudge();
    return awaitRequest(this.db, request.id, PASS_REQUEST_WAIT_MS);
  }

  /** Passes other replicas were asked for, of clusters this one owns. */
  private async runRequestedPasses(): Promise<void> {
    if (this.ready === null) return;
    for (const request of await pendingRequests(this.db, [...this.ready])) {
      if (this.taking.has(request.id)) continue;
      this.taking.add(request.id);
      void this.queuePass(request.clusterId, request.trigger, request.requestedBy, request.id)
        .catch((err) => this.logPassFailure(err, request.clusterId))
        .finally(() => this.taking.delete(request.id));
    }
  }

  /** Refuses a write acting on the cluster once another replica owns it (fencing; see ClusterOwnership). */
  private async fence(m: EntityManager, clusterId: string): Promise<void> {
    if (await this.ownership.fenced(m, clusterId)) {
      throw new DomainError(
        ErrorCode.Unavailable,
        `This replica (${this.ownership.replicaId}) no longer owns cluster ${clusterId}: the pass was not recorded; its owner runs the next one`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.registry.doesExist('interval', TICK_JOB)) this.registry.deleteInterval(TICK_JOB);
    await Promise.allSettled([...this.chains.values()]);
  }

  /** One look at every cluster: passes that are due (when SCHEDULER_ENABLED), hosts done entering maintenance. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      await this.deferred.flush();
      const now = this.clock.now();
      await this.runRequestedPasses();
      for (const id of await clusterIds(this.db.reader)) {
        // Another replica's (shared database): its owner schedules it.
        if (!this.ownership.ownsOrClaims(id) || (this.ready !== null && !this.ready.has(id))) continue;
        await this.finishMaintenance(id);
        if (!this.settings.SCHEDULER_ENABLED) continue;
        const policy = await this.policies.resolve(id);
        const rules = await this.hardRulesFingerprint(id);
        const last = this.lastPassAt.get(id);
        const ruleChanged = this.hardRules.has(id) && this.hardRules.get(id) !== rules;
        this.hardRules.set(id, rules);
        if (last === undefined) {
          this.lastPassAt.set(id, now);
          continue;
        }
        const trigger: PassTrigger | undefined = ruleChanged
          ? 'rule-change'
          : now - last >= policy.passIntervalSeconds * 1000
            ? 'interval'
            : undefined;
        // Still this replica's to schedule after the reads above (it may have been handed over meanwhile): a scheduled
        // pass is never asked of the new owner, which schedules the cluster from its last recorded pass.
        if (trigger && this.ownership.owns(id) && (this.ready === null || this.ready.has(id))) {
          void this.queuePass(id, trigger, null, null).catch((err) => this.logPassFailure(err, id));
        }
      }
    } catch (err) {
      this.logger.error({ err }, 'scheduler tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Queues a pass behind any pass of the same cluster in progress, and resolves with its record.
   * `actor`: who asked for it through the API; its events, and the migrations it queues, name them.
   */
  runPass(clusterId: string, trigger: PassTrigger, actor: Actor | null = null): Promise<PassEntity> {
    if (this.ready !== null && !this.ready.has(clusterId)) return this.passWhenReady(clusterId, trigger, actor);
    return this.queuePass(clusterId, trigger, actor, null);
  }

  /**
   * A cluster this replica owns, or no replica does yet (just created): it waits a moment to take its schedule up and
   * runs the pass itself; a cluster another replica owns has the pass asked of that one.
   */
  private async passWhenReady(clusterId: string, trigger: PassTrigger, actor: Actor | null): Promise<PassEntity> {
    const deadline = performance.now() + READY_WAIT_MS;
    while (this.ownership.mayOwn(clusterId) && performance.now() < deadline) {
      this.ownership.ownsOrClaims(clusterId);
      if (this.ready?.has(clusterId)) return this.queuePass(clusterId, trigger, actor, null);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.requestPass(clusterId, trigger, actor);
  }

  /** `requestId`: the record of a pass another replica was asked for (status `requested`), which this one runs. */
  private queuePass(clusterId: string, trigger: PassTrigger, actor: Actor | null, requestId: string | null): Promise<PassEntity> {
    this.lastPassAt.set(clusterId, this.clock.now());
    const previous = this.chains.get(clusterId) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => this.balancer.aheadOfWhatIfs(() => this.pass(clusterId, trigger, actor, requestId)));
    const tail = run.catch(() => undefined);
    this.chains.set(clusterId, tail);
    void tail.then(() => {
      if (this.chains.get(clusterId) === tail) this.chains.delete(clusterId);
    });
    return run;
  }

  async listPasses(clusterId: string, limit = 50, offset = 0): Promise<Page<PassEntity>> {
    await requireClusterFound(this.db.reader, clusterId);
    const [items, total] = await this.db.reader.findAndCount(PassEntity, {
      where: { clusterId },
      order: { startedAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  private logPassFailure(err: unknown, clusterId: string): void {
    if (err instanceof DomainError && err.code === ErrorCode.Unavailable) this.logger.warn({ clusterId }, err.message);
    else this.logger.error({ err, clusterId }, 'pass failed');
  }

  /** A pass the database cannot take (locked, disk full) is skipped, and recorded as soon as it can be. */
  private async pass(clusterId: string, trigger: PassTrigger, actor: Actor | null, requestId: string | null): Promise<PassEntity> {
    const startedAt = this.clock.now();
    this.lastPassAt.set(clusterId, startedAt);
    await requireClusterFound(this.db.reader, clusterId);
    await this.deferred.flush();
    const id = requestId !== null ? { id: requestId } : {};
    const heldBack = await this.guards.whyNotNow(clusterId);
    if (heldBack) return this.heldBackPass(clusterId, trigger, startedAt, `skipped: ${heldBack}`.slice(0, 2000), actor, id);
    try {
      return await this.planned.run(clusterId, trigger, startedAt, actor, id);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const code = (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
      const notes = `skipped: the database was unavailable (${code})`;
      const finishedAt = this.clock.now();
      // Written later only while this replica still owns the cluster, as every pass record is.
      this.deferred.push(clusterId, async (m) => {
        await this.fence(m, clusterId);
        return recordSkipped(m, this.events, { ...id, clusterId, trigger, startedAt, finishedAt, notes, actor });
      });
      await this.deferred.flush();
      throw new DomainError(
        ErrorCode.Unavailable,
        `The database is busy or out of space (${code}): the pass was skipped and is recorded as such; try again shortly`,
      );
    }
  }

  /** A pass a guard holds back (pass-guards.ts) plans nothing: it is recorded as skipped, saying why. */
  private heldBackPass(
    clusterId: string,
    trigger: PassTrigger,
    startedAt: number,
    notes: string,
    actor: Actor | null,
    id: { id?: string },
  ): Promise<PassEntity> {
    const finishedAt = this.clock.now();
    return this.db.transaction(
      async (m) => {
        await this.fence(m, clusterId);
        return recordSkipped(m, this.events, { ...id, clusterId, trigger, startedAt, finishedAt, notes, actor });
      },
      { affects: [] },
    );
  }

  /** Changes when a hard rule is added, edited, enabled or removed. */
  private async hardRulesFingerprint(clusterId: string): Promise<string> {
    return hardRulesFingerprint(this.db.reader, clusterId);
  }

  /** A host entering maintenance with no VM left and nothing migrating to or from it is in maintenance. */
  private async finishMaintenance(clusterId: string): Promise<void> {
    const entering = await hostsInState(this.db.reader, clusterId, 'entering-maintenance');
    for (const host of entering) {
      const vms = await countVmsOnHost(this.db.reader, host.id);
      const active = await countActiveOnHost(this.db.reader, host.id);
      if (vms > 0 || active > 0) continue;
      await this.db.transaction(async (m) => {
        if (!(await this.hosts.changeState(m, host.id, 'maintenance', 'entering-maintenance'))) return;
        await this.events.recordIn(m, {
          clusterId,
          subjectType: 'host',
          subjectId: host.id,
          type: 'host.maintenance.entered',
          message: `${host.name} is empty and in maintenance`,
        });
      });
    }
  }
}
