// The sync and collection loops of every cluster with a connector: the platform's inventory goes
// through the inventory sync, its utilization through sample ingestion, and what went wrong into the
// connector's state (ok / degraded), with an event once per transition.
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import { Database } from '../database/database.service';
import { EventsService } from '../events/events.service';
import type { InventorySyncDto } from '../inventory/dto/inventory-sync.dto';
import { InventorySyncService } from '../inventory/inventory-sync.service';
import { ClusterOwnership } from '../replicas/cluster-ownership';
import { RulesService } from '../rules/rules.service';
import { MAX_SAMPLES_PER_REQUEST } from '../samples/sample-input';
import { SamplesService } from '../samples/samples.service';
import type { MigrationDriver } from '../live-migration/drivers/migration-driver';
import { ConnectorError, type Discovery, type UnreachableHost } from './connector';
import { describeProblem, nextHealth, type LoopName } from './connector-health';
import type { LiveConnector } from './connector-config';
import { CONNECTOR_KINDS, removeStaleAuthFiles } from './connector-kinds';
import type { ConnectorEntity } from './connector.entity';
import { ConnectorsSettings } from './connectors.settings';
import { ConnectorStore, type ConnectorStatus } from './connectors.repository';
import { CredentialCipher } from './credentials';
import { inventoryOf } from './discovery-inventory';
import { type ClusterLoops, problemOf, SharedConnector } from './cluster-loops';

/** An unchanged discovery is not synced again (each sync records an event), except every this many rounds. */
const RESYNC_EVERY = 10;
@Injectable()
export class ConnectorLoops implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Connectors');
  private readonly loops = new Map<string, ClusterLoops>();
  private shuttingDown = false;
  /** Every stored connector has been started (or found unusable): a cluster without loops has none. */
  private bootstrapped = false;
  /** Clusters whose stored connector could not be made, and why: their migrations wait rather than run elsewhere. */
  private readonly unusable = new Map<string, string>();
  /** The configuration version each cluster's loops were (re)started from: a replica sees another's changes by it. */
  private readonly startedVersions = new Map<string, number>();
  private reconciler: NodeJS.Timeout | undefined;
  /** Each cluster's starts and stops, one after another (a reconcile, a request and a migration may ask at once). */
  private readonly changing = new Map<string, Promise<unknown>>();
  /** Reconciles, one after another. */
  private reconciling: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly store: ConnectorStore,
    private readonly cipher: CredentialCipher,
    private readonly settings: ConnectorsSettings,
    private readonly inventory: InventorySyncService,
    private readonly samples: SamplesService,
    private readonly events: EventsService,
    private readonly rules: RulesService,
    private readonly ownership: ClusterOwnership,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A service that crashed left its libvirt credentials on disk; remove them whether or not a
    // connector with credentials starts here again.
    const removed = removeStaleAuthFiles();
    if (removed.length > 0)
      this.logger.log(`removed ${removed.length} libvirt credentials folder(s) of service processes that no longer run`);
    for (const row of await this.store.all()) if (this.ownership.owns(row.clusterId)) await this.start(row);
    this.bootstrapped = true;
    if (!this.ownership.shared) return;
    // Several replicas: the loops of a cluster run on its owner, which also follows configuration changes made
    // through any replica (by the connector's version).
    await this.ownership.listen({ acquired: () => this.reconcile(), lost: (clusterId) => this.stop(clusterId) });
    this.reconciler = setInterval(
      () => void this.reconcile().catch((err: unknown) => this.logger.warn({ err }, 'connector reconcile failed')),
      this.settings.CONNECTOR_RECONCILE_SECONDS * 1000,
    );
    this.reconciler.unref();
  }

  /** Starts, restarts or stops loops so that they match the stored connectors of the clusters this replica owns. */
  private reconcile(): Promise<void> {
    const next = this.reconciling.catch(() => undefined).then(() => this.reconcileNow());
    this.reconciling = next;
    return next;
  }

  private async reconcileNow(): Promise<void> {
    if (this.shuttingDown) return;
    const rows = new Map((await this.store.all()).map((row) => [row.clusterId, row]));
    for (const clusterId of [...this.loops.keys(), ...this.unusable.keys()]) {
      if (!rows.has(clusterId) || !this.ownership.owns(clusterId)) await this.stop(clusterId);
    }
    for (const row of rows.values()) {
      if (this.ownership.owns(row.clusterId) && this.startedVersions.get(row.clusterId) !== row.version) await this.start(row);
    }
  }

  /** Before the database closes: no timer left, no round in flight. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.reconciler);
    this.shuttingDown = true;
    await Promise.all([...this.loops.keys()].map((clusterId) => this.stop(clusterId)));
  }

  /** Why a pass of the cluster should not run now (its connector is degraded), or null. */
  whyNotNow(clusterId: string): string | null {
    const loops = this.loops.get(clusterId);
    if (loops?.state === 'degraded') return `the connector is degraded (${loops.lastError}): the inventory may be stale`;
    if (loops?.balancedBy) return `${loops.balancedBy}: two balancers would fight, so this service moves nothing there`;
    return null;
  }

  /** (Re)starts the loops of a cluster from its stored configuration: a sync at once, the first collection after it, then on their intervals. */
  start(row: ConnectorEntity): Promise<void> {
    return this.serially(row.clusterId, () => this.startNow(row));
  }

  stop(clusterId: string): Promise<void> {
    return this.serially(clusterId, () => this.stopNow(clusterId));
  }

  private serially(clusterId: string, step: () => Promise<void>): Promise<void> {
    const run = (this.changing.get(clusterId) ?? Promise.resolve()).catch(() => undefined).then(step);
    const tail = run.catch(() => undefined);
    this.changing.set(clusterId, tail);
    void tail.then(() => {
      if (this.changing.get(clusterId) === tail) this.changing.delete(clusterId);
    });
    return run;
  }

  private async startNow(row: ConnectorEntity): Promise<void> {
    await this.stopNow(row.clusterId);
    // Another replica's cluster: its owner starts the loops (it sees the new configuration by its version).
    if (this.shuttingDown || !this.ownership.owns(row.clusterId)) return;
    this.startedVersions.set(row.clusterId, row.version);
    let live: LiveConnector;
    try {
      live = this.connect(row);
    } catch (error) {
      const problem = problemOf(error);
      this.unusable.set(row.clusterId, describeProblem(problem));
      this.logger.error({ clusterId: row.clusterId, error: problem.error }, 'connector not started');
      await this.write(
        row.clusterId,
        { state: 'degraded', lastError: describeProblem(problem) },
        row.state !== 'degraded' ? 'degraded' : null,
      );
      return;
    }
    const loops: ClusterLoops = {
      clusterId: row.clusterId,
      shared: new SharedConnector(live),
      abort: new AbortController(),
      timers: new Map(),
      running: new Set(),
      problems: {},
      state: row.state,
      lastError: row.lastError,
      knownVms: null,
      lastSynced: null,
      unchangedSyncs: 0,
      lastRules: null,
      balancedBy: null,
      notes: [],
      platformStored: null,
      collecting: false,
      platformMaintenance: new Set(),
      stopped: false,
    };
    this.loops.set(row.clusterId, loops);
    // Collection starts once the first sync is over: before it, the VMs are unknown and their samples would be dropped.
    this.schedule(loops, 'sync', 0);
  }

  private async stopNow(clusterId: string): Promise<void> {
    this.unusable.delete(clusterId);
    this.startedVersions.delete(clusterId);
    const loops = this.loops.get(clusterId);
    if (!loops) return;
    this.loops.delete(clusterId);
    loops.stopped = true;
    for (const timer of loops.timers.values()) clearTimeout(timer);
    loops.abort.abort();
    await Promise.allSettled([...loops.running]);
    await loops.shared.release().catch((err: unknown) => this.logger.warn({ clusterId, err }, 'connector did not close cleanly'));
  }

  /**
   * The driver that carries out the cluster's migrations through its platform, or null when the cluster
   * has no connector. Throws (ConnectorError) when it has one that cannot be used now. Before the loops
   * start (a restart settling what a crash left running), a connector of its own is made from the
   * stored configuration. After, the stored configuration decides, not the one this replica last
   * started: another replica may have changed or removed it a moment ago (its owner follows within
   * CONNECTOR_RECONCILE_SECONDS, and at once here).
   */
  async leaseDriver(clusterId: string): Promise<{ driver: MigrationDriver; release(): void } | null> {
    // Any other driver would record moves the platform never made.
    if (this.shuttingDown) throw new ConnectorError(null, 'other', 'the service is shutting down');
    if (this.bootstrapped) {
      const row = await this.store.find(clusterId);
      if (!row) {
        if (this.loops.has(clusterId) || this.unusable.has(clusterId)) await this.stop(clusterId);
        return null;
      }
      if (this.startedVersions.get(clusterId) !== row.version) await this.start(row);
      if (!this.loops.has(clusterId) && !this.unusable.has(clusterId)) {
        throw new ConnectorError(
          null,
          'other',
          `another replica owns cluster ${clusterId}: its connector carries out the migrations there`,
        );
      }
    }
    const loops = this.loops.get(clusterId);
    let shared: SharedConnector;
    let release: () => Promise<void>;
    if (loops) {
      shared = loops.shared;
      release = shared.hold();
    } else {
      const why = this.unusable.get(clusterId);
      if (why) throw new ConnectorError(null, 'invalid-settings', `the cluster's connector cannot be used: ${why}`);
      // Before the loops start (a restart settling what a crash left running): a connector of its own.
      const row = await this.store.find(clusterId);
      if (!row) return null;
      shared = new SharedConnector(this.connect(row));
      release = () => shared.release();
    }
    const done = () => void release().catch((err: unknown) => this.logger.warn({ clusterId, err }, 'connector did not close cleanly'));
    try {
      return { driver: shared.live.connector.migrationDriver(), release: done };
    } catch (error) {
      done();
      throw error;
    }
  }

  /** The platform connection a stored configuration describes; throws ConnectorError when it cannot be made. */
  private connect(row: ConnectorEntity): LiveConnector {
    const kind = CONNECTOR_KINDS[row.kind];
    if (!kind) throw new ConnectorError(null, 'invalid-settings', `kind "${row.kind}" is not known to this version of the service`);
    const credentials = row.credentials ? (this.cipher.open(row.credentials, row.clusterId) as Record<string, string>) : undefined;
    return kind.create(row.settings, credentials);
  }

  private schedule(loops: ClusterLoops, name: LoopName, delayMs: number): void {
    const timer = setTimeout(() => {
      loops.timers.delete(name);
      const round = (name === 'sync' ? this.syncRound(loops) : this.collectRound(loops)).catch((err: unknown) =>
        this.logger.error({ clusterId: loops.clusterId, err }, `connector ${name} failed`),
      );
      loops.running.add(round);
      void round.finally(() => {
        loops.running.delete(round);
        if (loops.stopped) return;
        this.schedule(loops, name, this.intervalMs(name));
        if (name === 'sync' && !loops.collecting) {
          loops.collecting = true;
          this.schedule(loops, 'collect', 0);
        }
      });
    }, delayMs);
    loops.timers.set(name, timer);
  }

  private intervalMs(name: LoopName): number {
    return (name === 'sync' ? this.settings.CONNECTOR_SYNC_INTERVAL_SECONDS : this.settings.CONNECTOR_COLLECT_INTERVAL_SECONDS) * 1000;
  }

  private async syncRound(loops: ClusterLoops): Promise<void> {
    let problems: UnreachableHost[];
    try {
      const discovery = await loops.shared.live.connector.discover(loops.abort.signal);
      if (loops.stopped) return;
      problems = discovery.unreachable;
      const dto = inventoryOf(discovery);
      this.followPlatformMaintenance(loops, discovery, dto);
      // The platform's own view is stored (every replica reads it) before the inventory is written: whoever reads a VM
      // held by the platform's balancer then also finds the note that says why.
      const balancedBy = discovery.balancedBy ?? null;
      const notes = discovery.notes ?? [];
      if (loops.platformStored === null || balancedBy !== loops.balancedBy || JSON.stringify(notes) !== JSON.stringify(loops.notes)) {
        await this.db.transaction((m) => this.store.recordPlatformView(m, loops.clusterId, balancedBy, notes), { affects: [] });
        loops.platformStored = true;
      }
      loops.balancedBy = balancedBy;
      loops.notes = notes;
      const fingerprint = JSON.stringify(dto);
      const unchanged = fingerprint === loops.lastSynced && ++loops.unchangedSyncs < RESYNC_EVERY;
      if (!unchanged && dto.hosts.length > 0) {
        await this.inventory.sync(loops.clusterId, dto, null);
        loops.lastSynced = fingerprint;
        loops.unchangedSyncs = 0;
      }
      if (discovery.rules && dto.hosts.length > 0) {
        const rules = JSON.stringify(discovery.rules);
        if (!unchanged || rules !== loops.lastRules) {
          await this.rules.importFromPlatform(loops.clusterId, discovery.rules);
          loops.lastRules = rules;
        }
      }
      const names = dto.vms.map((vm) => vm.name);
      // While a host is down its VMs stay in the inventory but send no samples: the names found are enough.
      loops.knownVms = new Set(names);
    } catch (error) {
      if (loops.stopped) return;
      problems = [problemOf(error)];
      loops.lastSynced = null;
      loops.lastRules = null;
    }
    await this.report(loops, 'sync', problems, { lastSyncAt: this.clock.now() });
  }

  /**
   * A host the platform has in maintenance is in maintenance here (nothing is placed there); one it let go of,
   * that this connector had put there, is connected again. The operator's own maintenance is never touched: a host
   * is only ever set to maintenance, or back, when the platform's view changed.
   */
  private followPlatformMaintenance(loops: ClusterLoops, discovery: Discovery, dto: InventorySyncDto): void {
    for (const host of dto.hosts) {
      const found = discovery.hosts.find((h) => h.name === host.name);
      if (found?.maintenance) {
        host.state = 'maintenance';
        loops.platformMaintenance.add(host.name);
      } else if (loops.platformMaintenance.delete(host.name)) host.state = 'connected';
    }
  }

  private async collectRound(loops: ClusterLoops): Promise<void> {
    let problems: UnreachableHost[];
    try {
      const collection = await loops.shared.live.connector.collect(loops.abort.signal);
      if (loops.stopped) return;
      problems = collection.unreachable;
      const known = loops.knownVms;
      const samples = known
        ? collection.samples
            .filter((s) => known.has(s.vmName))
            .map(({ vmName, timestamp, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond, cpuReadyPercent }) => ({
              clusterId: loops.clusterId,
              vmName,
              timestamp,
              cpuMhz,
              memoryActiveMib,
              memoryConsumedMib,
              ...(memoryDirtyMibPerSecond !== undefined ? { memoryDirtyMibPerSecond } : {}),
              ...(cpuReadyPercent !== undefined ? { cpuReadyPercent } : {}),
            }))
        : [];
      try {
        for (let i = 0; i < samples.length; i += MAX_SAMPLES_PER_REQUEST) {
          await this.samples.ingest({ samples: samples.slice(i, i + MAX_SAMPLES_PER_REQUEST) });
        }
      } catch (error) {
        // A VM deleted through the API since the last sync: the platform answered, so the connector is not degraded; the next sync restores it.
        if (!(error instanceof DomainError)) throw error;
        loops.lastSynced = null;
        this.logger.warn({ clusterId: loops.clusterId, error: error.message }, 'samples refused: the inventory is synced again');
      }
    } catch (error) {
      if (loops.stopped) return;
      problems = [problemOf(error)];
    }
    await this.report(loops, 'collect', problems, { lastCollectAt: this.clock.now() });
  }

  private async report(loops: ClusterLoops, name: LoopName, problems: UnreachableHost[], stamp: Partial<ConnectorStatus>): Promise<void> {
    if (loops.stopped) return;
    loops.problems[name] = problems;
    const health = nextHealth(loops.state, loops.problems);
    loops.state = health.state;
    loops.lastError = health.lastError;
    if (health.transition) {
      const fields = { clusterId: loops.clusterId, state: health.state, error: health.lastError };
      if (health.transition === 'degraded') this.logger.warn(fields, 'connector degraded');
      else this.logger.log(fields, 'connector recovered');
    }
    const present = await this.write(loops.clusterId, { state: health.state, lastError: health.lastError, ...stamp }, health.transition);
    // The row went with its cluster (or a DELETE raced this round): nothing left to report to.
    if (!present && this.loops.get(loops.clusterId) === loops) void this.stop(loops.clusterId);
  }

  private write(clusterId: string, status: ConnectorStatus, transition: 'degraded' | 'recovered' | null): Promise<boolean> {
    return this.db.transaction(
      async (m) => {
        if (!(await this.store.recordStatus(m, clusterId, status))) return false;
        if (transition) {
          await this.events.recordIn(m, {
            clusterId,
            subjectType: 'connector',
            subjectId: clusterId,
            type: `connector.${transition}`,
            message:
              transition === 'degraded'
                ? `Connector degraded: ${status.lastError}; balancing passes are skipped and nothing is deleted until it answers again`
                : 'Connector ok again: every host answers',
            data: { state: status.state, error: status.lastError },
            actor: null,
          });
        }
        return true;
      },
      { affects: [] },
    );
  }
}
