import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Database } from '../database/database.service';
import { HostEntity } from '../inventory/host.entity';
import { VmEntity } from '../inventory/vm.entity';
import { SamplesSettings } from './samples.settings';
import { requireHostFound, requireVmFound, vmsOnHost } from '../inventory/inventory.repository';
import { vmDemandSummaries, vmUsagePoints } from './samples.repository';
import {
  ConfiguredSize,
  DEFAULT_DEMAND_STATISTIC,
  DEFAULT_DEMAND_WINDOW_SECONDS,
  DEFAULT_SWING_WINDOW_SECONDS,
  Demand,
  DemandSettings,
  DemandSummary,
  demandFromSummary,
  estimateDemand,
  SQL_SUMMARIZED_STATISTICS,
  sigmaOf,
  standardDeviation,
  swingSeconds,
  UsagePoint,
} from './demand';

/** When an estimate is made, and the starts (exclusive, epoch ms) of its window and swing window. */
interface SwingWindow {
  now: number;
  since: number;
  swingSince: number;
}

/** What demand estimation needs of a VM (a VmEntity has it all). */
export type DemandVm = Pick<
  VmEntity,
  | 'id'
  | 'clusterId'
  | 'hostId'
  | 'powerState'
  | 'vcpus'
  | 'memoryMib'
  | 'cpuReservationMhz'
  | 'cpuLimitMhz'
  | 'memoryReservationMib'
  | 'memoryLimitMib'
>;
export type DemandHost = Pick<HostEntity, 'cpuMhz' | 'cpuCores'>;

/** Below this many VMs, the window's samples are read for those VMs only rather than for their whole cluster. */
const FEW_VMS = 50;

/**
 * How long a cluster's swings (each VM's σ over the swing window) are reused by cluster-wide estimates
 * before the swing window is read again. The window is read afresh every time; the swing window (3
 * hours by default, 540 samples per VM at vCenter's 20 s) costs about ten times the 5-minute window's scan
 * (npm run bench:demand), and a balance report is renewed by every batch of samples. Within a minute a
 * 3-hour σ changes only by the samples that enter and leave it (1/180 of them each at 20 s).
 */
export const SWING_REUSE_MS = 60_000;

export interface VmDemand extends Demand {
  vmId: string;
  hostId: string;
  poweredOn: boolean;
}

export interface HostLoad {
  hostId: string;
  cpu: { demandMhz: number; capacityMhz: number; utilization: number };
  memory: { demandMib: number; capacityMib: number; utilization: number };
  poweredOnVms: number;
  vmsWithoutSamples: number;
}

function configuredSize(vm: DemandVm, hostMhzPerCore: number): ConfiguredSize {
  return {
    vcpus: vm.vcpus,
    memoryMib: vm.memoryMib,
    hostMhzPerCore,
    cpuReservationMhz: vm.cpuReservationMhz,
    cpuLimitMhz: vm.cpuLimitMhz,
    memoryReservationMib: vm.memoryReservationMib,
    memoryLimitMib: vm.memoryLimitMib,
  };
}

function hostMhzPerCore(host: DemandHost): number {
  return host.cpuMhz / host.cpuCores;
}

/** Estimates what VMs need now from their recent samples, and what that means for their hosts. */
@Injectable()
export class DemandService {
  /** Cluster-wide swings by `${clusterId} ${swing seconds}`: σ per VM id (MHz) and when they were read. */
  private readonly swings = new Map<string, { at: number; sigma: Map<string, number> }>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly samplesSettings: SamplesSettings,
  ) {}

  /**
   * Where a cluster-wide estimate gets each VM's swing when the swing window is longer than the window:
   * the cluster's swings read less than SWING_REUSE_MS ago (`kept`: then only the window is read), or
   * the samples read now from `swingSince` (`read`, filled by the caller and kept by `keep`). An estimate
   * of a few VMs (`only`) reads its own samples, cheaply, and keeps nothing; so does one whose swing
   * window is the window.
   */
  private swingsFor(clusterId: string, settings: DemandSettings, window: SwingWindow, only?: string[]) {
    const key = `${clusterId} ${swingSeconds(settings)}`;
    const fresh = (at: number) => at <= window.now && window.now - at < SWING_REUSE_MS;
    const reusable = !only && window.swingSince < window.since;
    const entry = reusable ? this.swings.get(key) : undefined;
    const kept = entry && fresh(entry.at) ? entry.sigma : undefined;
    const read = reusable && !kept ? new Map<string, number>() : undefined;
    return {
      kept,
      read,
      swingSince: kept ? window.since : window.swingSince,
      keep: () => {
        if (!read) return;
        for (const [k, e] of this.swings) if (!fresh(e.at)) this.swings.delete(k);
        this.swings.set(key, { at: window.now, sigma: read });
      },
    };
  }

  settings(overrides: Partial<Pick<DemandSettings, 'statistic' | 'windowSeconds' | 'swingWindowSeconds'>> = {}): DemandSettings {
    return {
      statistic: overrides.statistic ?? DEFAULT_DEMAND_STATISTIC,
      windowSeconds: overrides.windowSeconds ?? DEFAULT_DEMAND_WINDOW_SECONDS,
      swingWindowSeconds: overrides.swingWindowSeconds ?? DEFAULT_SWING_WINDOW_SECONDS,
      idleTax: this.samplesSettings.MEMORY_IDLE_TAX,
      ewmaAlpha: this.samplesSettings.DEMAND_EWMA_ALPHA,
    };
  }

  /** Demand of the given VMs (all on hosts of `hosts`), from the samples of the look-back window. */
  async demandOf(vms: DemandVm[], hosts: Map<string, DemandHost>, settings: DemandSettings): Promise<Map<string, VmDemand>> {
    const now = this.clock.now();
    const window = { now, since: now - settings.windowSeconds * 1000, swingSince: now - swingSeconds(settings) * 1000 };
    const clusterIds = [...new Set(vms.map((v) => v.clusterId))];
    const only = vms.length < FEW_VMS ? vms.map((v) => v.id) : undefined;
    const estimate = SQL_SUMMARIZED_STATISTICS.has(settings.statistic)
      ? await this.summarizedBySql(clusterIds, window, settings, only)
      : await this.summarizedFromPoints(clusterIds, window, settings, only);
    const result = new Map<string, VmDemand>();
    for (const vm of vms) {
      const host = hosts.get(vm.hostId);
      const d = estimate(vm, configuredSize(vm, host ? hostMhzPerCore(host) : 0));
      // Field by field: spreading thousands of database rows is most of the cost of this loop.
      const entry: VmDemand = {
        cpuMhz: d.cpuMhz,
        memoryMib: d.memoryMib,
        entitlement: d.entitlement,
        source: d.source,
        sampleCount: d.sampleCount,
        vmId: vm.id,
        hostId: vm.hostId,
        poweredOn: vm.powerState === 'poweredOn',
      };
      if (d.cpuSigmaMhz !== undefined) entry.cpuSigmaMhz = d.cpuSigmaMhz;
      result.set(vm.id, entry);
    }
    return result;
  }

  /**
   * Mean and max, computed by SQLite: one row per VM instead of one per sample (a 1,000-VM cluster
   * has 15,000 samples in a 5-minute window at vCenter's 20 s interval). Memory demand per sample is
   * the same formula as memoryDemandMib. SQLite's AVG sums with compensated (Kahan–Babuška–Neumaier)
   * summation, so a mean may differ from summarize()'s plain sum in the last bit.
   */
  private async summarizedBySql(clusterIds: string[], window: SwingWindow, settings: DemandSettings, only?: string[]) {
    const summaries = new Map<string, DemandSummary>();
    for (const clusterId of clusterIds) {
      const swings = this.swingsFor(clusterId, settings, window, only);
      const rows = await vmDemandSummaries(
        this.db.reader,
        settings.statistic === 'max' ? 'MAX' : 'AVG',
        settings.idleTax,
        clusterId,
        window.since,
        swings.swingSince,
        only,
      );
      for (const row of rows) {
        const sigma = sigmaOf(row.cpuavg, row.cpusq);
        swings.read?.set(row.subjectId, sigma);
        // A VM with samples in the swing window only has none in the window: it counts at its configured size.
        if (!(row.n > 0) || row.cpu === null || row.mem === null) continue;
        summaries.set(row.subjectId, {
          cpuMhz: row.cpu,
          memoryMib: row.mem,
          sampleCount: row.n,
          // With swings kept, a VM that had no samples when they were read has the window's own σ.
          cpuSigmaMhz: swings.kept?.get(row.subjectId) ?? sigma,
        });
      }
      swings.keep();
    }
    return (vm: DemandVm, size: ConfiguredSize): Demand => demandFromSummary(summaries.get(vm.id), size);
  }

  /** Statistics that need every sample in time order (p80, EWMA). */
  private async summarizedFromPoints(clusterIds: string[], window: SwingWindow, settings: DemandSettings, only?: string[]) {
    const points = new Map<string, UsagePoint[]>();
    const sigmas = new Map<string, number>();
    for (const clusterId of clusterIds) {
      const swings = this.swingsFor(clusterId, settings, window, only);
      const byVm = new Map<string, UsagePoint[]>();
      for (const row of await vmUsagePoints(this.db.reader, clusterId, Math.min(window.since, swings.swingSince), only)) {
        let list = byVm.get(row.subjectId);
        if (!list) byVm.set(row.subjectId, (list = []));
        list.push(row);
      }
      for (const [vmId, all] of byVm) {
        const sigma = standardDeviation(all.map((p) => p.cpuMhz));
        swings.read?.set(vmId, sigma);
        sigmas.set(vmId, swings.kept?.get(vmId) ?? sigma);
        points.set(
          vmId,
          all.filter((p) => p.timestamp > window.since),
        );
      }
      swings.keep();
    }
    return (vm: DemandVm, size: ConfiguredSize): Demand => estimateDemand(points.get(vm.id) ?? [], size, settings, sigmas.get(vm.id));
  }

  async vmDemand(vmId: string, settings: DemandSettings) {
    const vm = await requireVmFound(this.db.reader, vmId);
    const host = await requireHostFound(this.db.reader, vm.hostId);
    const demand = (await this.demandOf([vm], new Map([[host.id, host]]), settings)).get(vm.id) as VmDemand;
    return {
      ...demand,
      statistic: settings.statistic,
      windowSeconds: settings.windowSeconds,
      swingWindowSeconds: swingSeconds(settings),
      idleTax: settings.idleTax,
    };
  }

  /** Host utilization as the load model defines it: the entitlements of its powered-on VMs over its capacity. */
  async hostUtilization(hostId: string, settings: DemandSettings) {
    const host = await requireHostFound(this.db.reader, hostId);
    const vms = await vmsOnHost(this.db.reader, hostId);
    const demand = await this.demandOf(vms, new Map([[host.id, host]]), settings);
    return {
      ...hostLoad(host, [...demand.values()]),
      state: host.state,
      statistic: settings.statistic,
      windowSeconds: settings.windowSeconds,
    };
  }
}

export function hostLoad(host: HostEntity, demands: VmDemand[]): HostLoad {
  const on = demands.filter((d) => d.poweredOn);
  const cpu = on.reduce((sum, d) => sum + d.entitlement.cpuMhz, 0);
  const memory = on.reduce((sum, d) => sum + d.entitlement.memoryMib, 0);
  return {
    hostId: host.id,
    cpu: { demandMhz: cpu, capacityMhz: host.cpuMhz, utilization: cpu / host.cpuMhz },
    memory: { demandMib: memory, capacityMib: host.memoryMib, utilization: memory / host.memoryMib },
    poweredOnVms: on.length,
    vmsWithoutSamples: on.filter((d) => d.source === 'configured').length,
  };
}
