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
import type { PerfSample, VmPower, VsphereCluster } from './vim-parse';
import { balancedBy, refKey, type ClusterView, type VsphereApi } from './vsphere-api';
import { VsphereMigrationDriver, type VsphereMigrationOptions } from './vsphere-migration-driver';
import { platformRulesOf } from './vsphere-rules';

const CPU_USAGE = 'cpu.usagemhz.average';
/** Milliseconds the VM's vCPUs (summed) were ready to run but waited for a physical CPU, per sample interval. */
const CPU_READY = 'cpu.ready.summation';
/** vCenter's realtime interval. */
const REALTIME_INTERVAL_MS = 20_000;
/** In KiB. */
const MEMORY_ACTIVE = 'mem.active.average';
/** The first collection takes the last minute of realtime samples: enough for a first estimate, not a flood. */
const FIRST_PERF_WINDOW_MS = 60_000;

const POWER: Record<VmPower, DiscoveredPower> = { poweredOn: 'running', suspended: 'paused', poweredOff: 'stopped' };

export class VsphereConnector implements Connector {
  readonly kind = 'vsphere';
  private view: ClusterView | null = null;
  private driver: VsphereMigrationDriver | null = null;
  /** Time of the newest performance sample collected: the next collection asks for what came after it. */
  private lastPerfAt: number | null = null;

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
      hosts: connected.map((h) => ({
        name: h.name,
        cpuCores: h.cpuCores,
        cpuMhzPerCore: h.cpuMhzPerCore,
        memoryMib: h.memoryMib,
        maintenance: h.inMaintenanceMode,
      })),
      vms,
      unreachable,
      rules: platformRulesOf(found, view.vmNames, view.hostNames),
      balancedBy: balancedBy(cluster),
    };
  }

  /**
   * The VMs' realtime performance samples (cpu.usagemhz, mem.active: one every 20 s) since the last call, with the
   * memory they consume from their quick stats; a VM vCenter has no samples for yet (just powered on, or a vCenter
   * without realtime statistics) is sampled from its quick stats alone.
   */
  async collect(signal?: AbortSignal): Promise<Collection> {
    const view = await this.current(signal);
    const stats = await this.api.quickStats(view.cluster.ref, { signal });
    const now = Date.now();
    const hostOf = new Map(
      view.inventory.vms.map((vm) => [refKey(vm.ref), vm.hostRef ? view.hostNames.get(refKey(vm.hostRef)) : undefined]),
    );
    const running = view.inventory.vms.filter((vm) => vm.power === 'poweredOn' && !vm.template).map((vm) => vm.ref);
    const vcpusOf = new Map(view.inventory.vms.map((vm) => [refKey(vm.ref), Math.max(1, vm.vcpus)]));
    // VMs vCenter keeps realtime samples of: only those samples count for them (none new yet: nothing this round).
    const perf = new Map<string, PerfSample[]>();
    if (running.length > 0) {
      const since = Math.max(this.lastPerfAt ?? 0, now - FIRST_PERF_WINDOW_MS);
      const found = await this.api.queryPerf(running, [CPU_USAGE, MEMORY_ACTIVE, CPU_READY], since, { signal });
      for (const entity of found) {
        const measured = entity.samples.filter((s) => s.values[CPU_USAGE] !== undefined);
        if (measured.length > 0)
          perf.set(
            refKey(entity.entity),
            measured.filter((s) => s.timestamp > since),
          );
      }
    }
    const samples: CollectedSample[] = [];
    let latest = this.lastPerfAt ?? 0;
    for (const s of stats.vms) {
      const key = refKey(s.ref);
      const vmName = view.vmNames.get(key);
      const hostName = hostOf.get(key);
      if (!vmName || !hostName) continue;
      const memoryConsumedMib = Math.max(0, s.hostMemoryUsageMib);
      const series = perf.get(key);
      if (!series) {
        samples.push({
          vmName,
          hostName,
          timestamp: now,
          cpuMhz: Math.max(0, s.overallCpuUsageMhz),
          memoryActiveMib: Math.max(0, s.guestMemoryUsageMib),
          memoryConsumedMib,
        });
        continue;
      }
      const vcpus = vcpusOf.get(key) ?? 1;
      for (const point of series) {
        latest = Math.max(latest, point.timestamp);
        const activeKib = point.values[MEMORY_ACTIVE];
        const readyMs = point.values[CPU_READY];
        samples.push({
          vmName,
          hostName,
          timestamp: point.timestamp,
          cpuMhz: Math.max(0, point.values[CPU_USAGE]),
          memoryActiveMib: activeKib === undefined ? Math.max(0, s.guestMemoryUsageMib) : Math.max(0, activeKib / 1024),
          memoryConsumedMib,
          // The aggregate instance sums every vCPU's wait: a share of the interval times the vCPUs.
          ...(readyMs === undefined
            ? {}
            : { cpuReadyPercent: Math.min(100, Math.max(0, (100 * readyMs) / (REALTIME_INTERVAL_MS * vcpus))) }),
        });
      }
    }
    if (latest > 0) this.lastPerfAt = latest;
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
