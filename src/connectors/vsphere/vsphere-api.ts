// What the vSphere connector asks of vCenter, as typed calls (the vim25 client's types, vim-parse.ts),
// and the adapter that answers them with a VimClient: the inventory through a PropertyCollector filter
// that returns only what changed since the last read (WaitForUpdatesEx).
import { ConnectorError } from '../connector';
import { children, moRef, type MoRef } from './soap-xml';
import { VimClient, type CallOptions } from './vim-client';
import type { InventoryWatcher } from './vim-inventory';
import type { EntityPerf, QuickStats, TaskInfo, VsphereCluster, VsphereInventory, VsphereRules } from './vim-parse';

export type { MoRef };

/** Each call throws ConnectorError (reason auth, unreachable, timeout, not-found, refused, other). */
export interface VsphereApi {
  clusters(call?: CallOptions): Promise<VsphereCluster[]>;
  inventory(cluster: MoRef, call?: CallOptions): Promise<VsphereInventory>;
  rules(cluster: MoRef, call?: CallOptions): Promise<VsphereRules>;
  quickStats(cluster: MoRef, call?: CallOptions): Promise<QuickStats>;
  /** Realtime (20 s) samples of the counters since `since` (epoch ms), per entity; counters vCenter lacks are left out. */
  queryPerf(entities: MoRef[], counters: string[], since: number, call?: CallOptions): Promise<EntityPerf[]>;
  relocateVm(vm: MoRef, host: MoRef, pool?: MoRef): Promise<MoRef>;
  taskInfo(task: MoRef): Promise<TaskInfo>;
  cancelTask(task: MoRef): Promise<void>;
  /** The VM's recent tasks (its `recentTask` property): what a crash may have left running. */
  recentTasks(vm: MoRef): Promise<TaskInfo[]>;
  /** The host the VM runs on now, or null. */
  vmHost(vm: MoRef): Promise<MoRef | null>;
  close(): Promise<void>;
}

/** Incremental reads between two full ones. */
const FULL_READ_EVERY = 10;

export class VimApi implements VsphereApi {
  private watcher: InventoryWatcher | null = null;
  private reading: { cluster: string; result: Promise<VsphereInventory> } | null = null;
  private reads = 0;

  constructor(private readonly client: VimClient) {}

  clusters(call?: CallOptions): Promise<VsphereCluster[]> {
    return this.client.clusters(call);
  }

  /**
   * One read at a time: the sync and the collection loops both ask, and two reads on one watcher would each make
   * a PropertyCollector and apply one's updates with the other's version. A caller arriving during a read gets it.
   */
  inventory(cluster: MoRef, call?: CallOptions): Promise<VsphereInventory> {
    if (this.reading && this.reading.cluster === refKey(cluster)) return this.reading.result;
    const result = this.readInventory(cluster, call).finally(() => {
      if (this.reading?.result === result) this.reading = null;
    });
    this.reading = { cluster: refKey(cluster), result };
    return result;
  }

  private async readInventory(cluster: MoRef, call?: CallOptions): Promise<VsphereInventory> {
    // Every FULL_READ_EVERY reads start over with a full read, so that an update the collector never sent (govmomi's
    // simulator sets maintenance mode without telling its PropertyCollector) is not missed for good.
    if (this.watcher && (refKey(this.watcher.clusterRef) !== refKey(cluster) || ++this.reads % FULL_READ_EVERY === 0)) {
      await this.watcher.close();
      this.watcher = null;
    }
    this.watcher ??= this.client.watchInventory(cluster);
    return this.watcher.read(call);
  }

  rules(cluster: MoRef, call?: CallOptions): Promise<VsphereRules> {
    return this.client.rules(cluster, call);
  }

  quickStats(cluster: MoRef, call?: CallOptions): Promise<QuickStats> {
    return this.client.quickStats(cluster, call);
  }

  queryPerf(entities: MoRef[], counters: string[], since: number, call?: CallOptions): Promise<EntityPerf[]> {
    return this.client.queryPerf(entities, counters, since, call);
  }

  relocateVm(vm: MoRef, host: MoRef, pool?: MoRef): Promise<MoRef> {
    return this.client.relocateVm(vm, host, pool);
  }

  taskInfo(task: MoRef): Promise<TaskInfo> {
    return this.client.taskInfo(task);
  }

  cancelTask(task: MoRef): Promise<void> {
    return this.client.cancelTask(task);
  }

  async recentTasks(vm: MoRef): Promise<TaskInfo[]> {
    const [found] = await this.client.properties([vm], 'VirtualMachine', ['recentTask']);
    if (!found) throw new ConnectorError(null, 'not-found', `vCenter has no VM ${vm.value}`);
    const tasks = children(found.props.get('recentTask'), 'ManagedObjectReference')
      .map(moRef)
      .filter((ref): ref is MoRef => ref !== undefined);
    const infos: TaskInfo[] = [];
    for (const task of tasks) {
      // A task vCenter has already let go of ended long ago.
      const info = await this.client.taskInfo(task).catch((error: unknown) => {
        if (error instanceof ConnectorError && error.reason === 'not-found') return null;
        throw error;
      });
      if (info) infos.push(info);
    }
    return infos;
  }

  vmHost(vm: MoRef): Promise<MoRef | null> {
    return this.client.vmHost(vm);
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
    await this.client.close();
  }
}

export const refKey = (ref: MoRef) => `${ref.type}:${ref.value}`;

/** What the connector learned at its last read of the cluster: names by reference. */
export interface ClusterView {
  cluster: VsphereCluster;
  inventory: VsphereInventory;
  hostNames: Map<string, string>;
  vmNames: Map<string, string>;
}

/** Why vSphere balances the cluster itself, or null: DRS on (at any automation level, its recommendations are the operator's). */
export function balancedBy(cluster: VsphereCluster): string | null {
  if (!cluster.drsEnabled) return null;
  return `vSphere DRS is enabled on cluster "${cluster.name}"${cluster.drsBehavior ? ` (${cluster.drsBehavior})` : ''}`;
}
