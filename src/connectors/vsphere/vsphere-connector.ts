// A vSphere cluster compute resource read through vCenter: hosts and VMs from the PropertyCollector,
// utilization from the VMs' quick stats, DRS rules imported read-only, and migrations by vMotion
// (RelocateVM_Task). When DRS is enabled on the cluster, vSphere balances it and this service moves nothing.
import type { MigrationDriver } from '../../live-migration/drivers/migration-driver';
import {
  ConnectorError,
  type CollectedSample,
  type Collection,
  type Connector,
  type DiscoveredPower,
  type Discovery,
  type UnreachableHost,
} from '../connector';
import type { VmPower, VsphereCluster } from './vim-parse';
import { balancedBy, refKey, type ClusterView, type VsphereApi } from './vsphere-api';
import { VsphereMigrationDriver, type VsphereMigrationOptions } from './vsphere-migration-driver';
import { platformRulesOf } from './vsphere-rules';

const POWER: Record<VmPower, DiscoveredPower> = { poweredOn: 'running', suspended: 'paused', poweredOff: 'stopped' };

export class VsphereConnector implements Connector {
  readonly kind = 'vsphere';
  private view: ClusterView | null = null;
  private driver: VsphereMigrationDriver | null = null;

  constructor(
    private readonly api: VsphereApi,
    private readonly clusterName: string,
    private readonly migration: Partial<VsphereMigrationOptions> = {},
  ) {}

  /** The cluster compute resource named in the settings; not-found names the clusters vCenter has. */
  async findCluster(signal?: AbortSignal): Promise<VsphereCluster> {
    const clusters = await this.api.clusters({ signal });
    const cluster = clusters.find((c) => c.name === this.clusterName);
    if (!cluster) {
      const known = clusters.map((c) => `"${c.name}"`).join(', ') || 'none';
      throw new ConnectorError(null, 'not-found', `vCenter has no cluster named "${this.clusterName}" (its clusters: ${known})`);
    }
    return cluster;
  }

  /** Reads the cluster again: its hosts and VMs by reference. */
  async read(signal?: AbortSignal): Promise<ClusterView> {
    const cluster = await this.findCluster(signal);
    const inventory = await this.api.inventory(cluster.ref, { signal });
    const view = {
      cluster,
      inventory,
      hostNames: new Map(inventory.hosts.map((h) => [refKey(h.ref), h.name])),
      vmNames: new Map(inventory.vms.map((v) => [refKey(v.ref), v.name])),
    };
    this.view = view;
    return view;
  }

  /** The last view, or a fresh one when there is none yet. */
  async current(signal?: AbortSignal): Promise<ClusterView> {
    return this.view ?? this.read(signal);
  }

  async discover(signal?: AbortSignal): Promise<Discovery> {
    const view = await this.read(signal);
    const { cluster, inventory } = view;
    const unreachable: UnreachableHost[] = [];
    const connected = inventory.hosts.filter((host) => {
      if (host.connectionState === 'connected') return true;
      unreachable.push({ host: host.name, error: `${host.name}: vCenter reports the host ${host.connectionState}` });
      return false;
    });
    const vms = inventory.vms.flatMap((vm) => {
      const host = vm.hostRef ? view.hostNames.get(refKey(vm.hostRef)) : undefined;
      // Templates never run; a VM on a host outside the cluster is another cluster's.
      if (vm.template || !host) return [];
      return [{ externalId: vm.ref.value, name: vm.name, vcpus: vm.vcpus, memoryMib: vm.memoryMib, power: POWER[vm.power], host }];
    });
    const found = await this.api.rules(cluster.ref, { signal });
    return {
      hosts: connected.map((h) => ({ name: h.name, cpuCores: h.cpuCores, cpuMhzPerCore: h.cpuMhzPerCore, memoryMib: h.memoryMib })),
      vms,
      unreachable,
      rules: platformRulesOf(found, view.vmNames, view.hostNames),
      balancedBy: balancedBy(cluster),
    };
  }

  async collect(signal?: AbortSignal): Promise<Collection> {
    const view = await this.current(signal);
    const stats = await this.api.quickStats(view.cluster.ref, { signal });
    const timestamp = Date.now();
    const hostOf = new Map(
      view.inventory.vms.map((vm) => [refKey(vm.ref), vm.hostRef ? view.hostNames.get(refKey(vm.hostRef)) : undefined]),
    );
    const samples: CollectedSample[] = [];
    for (const s of stats.vms) {
      const vmName = view.vmNames.get(refKey(s.ref));
      const hostName = hostOf.get(refKey(s.ref));
      if (!vmName || !hostName) continue;
      samples.push({
        vmName,
        hostName,
        timestamp,
        cpuMhz: Math.max(0, s.overallCpuUsageMhz),
        memoryActiveMib: Math.max(0, s.guestMemoryUsageMib),
        memoryConsumedMib: Math.max(0, s.hostMemoryUsageMib),
      });
    }
    return { samples, unreachable: [] };
  }

  async locate(vmName: string): Promise<string | null> {
    const view = await this.read();
    const vm = view.inventory.vms.find((v) => v.name === vmName);
    if (!vm) return null;
    const host = await this.api.vmHost(vm.ref);
    return host ? (view.hostNames.get(refKey(host)) ?? null) : null;
  }

  migrationDriver(): MigrationDriver {
    this.driver ??= new VsphereMigrationDriver(this.api, this, this.migration);
    return this.driver;
  }

  async close(): Promise<void> {
    await this.api.close();
  }
}
