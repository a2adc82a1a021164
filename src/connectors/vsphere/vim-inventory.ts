// A cluster's inventory through the PropertyCollector: what is read of hosts and VMs, the traversal from the
// cluster, and the watcher that keeps a filter and applies only what changed (WaitForUpdatesEx).

import { ConnectorError } from '../connector';
import { child, children, moRef, textOf, Ref, Typed, type MoRef, type SoapFields, type XNode } from './soap-xml';
import type { CallOptions, VimClient } from './vim-client';
import { hostFromProps, vmFromProps, type ObjectProps, type VsphereInventory } from './vim-parse';

// ---------------------------------------------------------------------------------------------------------------
// Inventory traversal
// ---------------------------------------------------------------------------------------------------------------

const HOST_PROPS = [
  'name',
  'hardware.cpuInfo.numCpuCores',
  'hardware.cpuInfo.hz',
  'hardware.memorySize',
  'runtime.connectionState',
  'runtime.inMaintenanceMode',
  'runtime.powerState',
];
const VM_PROPS = [
  'name',
  'config.instanceUuid',
  'config.hardware.numCPU',
  'config.hardware.memoryMB',
  'config.template',
  'config.cpuAllocation',
  'config.memoryAllocation',
  'runtime.host',
  'runtime.powerState',
];
export const INVENTORY_PROPS = { cluster: ['resourcePool'], host: HOST_PROPS, vm: VM_PROPS };
export const QUICK_STATS_PROPS = { cluster: [] as string[], host: ['summary.quickStats'], vm: ['summary.quickStats'] };

/** From the cluster: its hosts, and the VMs of its resource pools (nested ones included), in one PropertyCollector request. */
export function inventorySpec(clusterRef: MoRef, props: { cluster: string[]; host: string[]; vm: string[] }): SoapFields {
  const select = (name: string) => ({ name });
  const traversal = (name: string, type: string, path: string, selectSet?: SoapFields[]) =>
    new Typed('TraversalSpec', { name, type, path, skip: false, selectSet });
  return {
    propSet: [
      { type: 'ClusterComputeResource', pathSet: props.cluster },
      { type: 'HostSystem', pathSet: props.host },
      { type: 'VirtualMachine', pathSet: props.vm },
    ],
    objectSet: {
      obj: new Ref(clusterRef),
      skip: props.cluster.length === 0,
      selectSet: [
        traversal('clusterHosts', 'ClusterComputeResource', 'host'),
        traversal('clusterPool', 'ClusterComputeResource', 'resourcePool', [select('poolPools'), select('poolVms')]),
        traversal('poolPools', 'ResourcePool', 'resourcePool', [select('poolPools'), select('poolVms')]),
        traversal('poolVms', 'ResourcePool', 'vm'),
      ],
    },
  };
}

export function inventoryFromObjects(objects: ObjectProps[]): VsphereInventory {
  const inventory: VsphereInventory = { rootPool: null, hosts: [], vms: [] };
  for (const object of objects) {
    if (object.ref.type === 'HostSystem') inventory.hosts.push(hostFromProps(object));
    else if (object.ref.type === 'VirtualMachine') inventory.vms.push(vmFromProps(object));
    else if (object.ref.type === 'ClusterComputeResource') inventory.rootPool = moRef(object.props.get('resourcePool')) ?? null;
  }
  inventory.hosts.sort((a, b) => a.name.localeCompare(b.name));
  inventory.vms.sort((a, b) => a.name.localeCompare(b.name));
  return inventory;
}

// ---------------------------------------------------------------------------------------------------------------
// Incremental inventory
// ---------------------------------------------------------------------------------------------------------------

/**
 * Keeps a PropertyCollector of its own with one filter on the cluster's inventory; each read() asks
 * WaitForUpdatesEx (maxWaitSeconds 0) for what changed since the last version and applies it. When the collector
 * or the filter is gone (a new session, a restarted vCenter) it starts over with a full read.
 */
export class InventoryWatcher {
  private collector: MoRef | undefined;
  private version = '';
  private readonly objects = new Map<string, ObjectProps>();
  /** How the last read() was answered (for tests and logs). */
  lastRead: 'full' | 'incremental' | undefined;

  constructor(
    private readonly client: VimClient,
    readonly clusterRef: MoRef,
  ) {}

  /** The server-side collector, while there is one. */
  get collectorRef(): MoRef | undefined {
    return this.collector;
  }

  async read(call: CallOptions = {}): Promise<VsphereInventory> {
    try {
      return await this.update(call);
    } catch (error) {
      const reason = error instanceof ConnectorError ? error.reason : 'other';
      if (reason !== 'not-found' || this.collector === undefined) throw error;
      this.collector = undefined;
      return this.update(call);
    }
  }

  private async update(call: CallOptions): Promise<VsphereInventory> {
    if (!this.collector) {
      const root = await this.client.propertyCollector(call);
      const [collector] = await this.client.invoke('CreatePropertyCollector', root, {}, call);
      this.collector = moRef(collector)!;
      const spec = inventorySpec(this.clusterRef, INVENTORY_PROPS);
      await this.client.invoke('CreateFilter', this.collector, { spec, partialUpdates: false }, call);
      this.version = '';
      this.objects.clear();
    }
    const full = this.version === '';
    // Several answers may be needed when the server splits a large update (truncated).
    for (;;) {
      const [set] = await this.client.invoke(
        'WaitForUpdatesEx',
        this.collector,
        { version: this.version, options: { maxWaitSeconds: 0 } },
        call,
      );
      if (set === undefined) break;
      this.apply(set);
      this.version = textOf(set, 'version') ?? this.version;
      if (textOf(set, 'truncated') !== 'true') break;
    }
    this.lastRead = full ? 'full' : 'incremental';
    return inventoryFromObjects([...this.objects.values()]);
  }

  private apply(set: XNode): void {
    for (const filterUpdate of children(set, 'filterSet')) {
      for (const update of children(filterUpdate, 'objectSet')) {
        const ref = moRef(child(update, 'obj'));
        if (!ref) continue;
        const key = `${ref.type}:${ref.value}`;
        const kind = textOf(update, 'kind');
        if (kind === 'leave') {
          this.objects.delete(key);
          continue;
        }
        let object = this.objects.get(key);
        if (!object || kind === 'enter') {
          object = { ref, props: new Map() };
          this.objects.set(key, object);
        }
        for (const change of children(update, 'changeSet')) {
          const name = textOf(change, 'name') ?? '';
          if (textOf(change, 'op') === 'remove') object.props.delete(name);
          else object.props.set(name, child(change, 'val') ?? '');
        }
      }
    }
  }

  /** Destroys the collector (and with it the filter). */
  async close(): Promise<void> {
    if (this.collector)
      await this.client.invoke('DestroyPropertyCollector', this.collector, {}, { timeoutMs: 5_000 }).catch(() => undefined);
    this.collector = undefined;
  }
}
