import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { findOr404 } from '../common/database-helpers';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database.service';
import { HostEntity } from '../inventory/host.entity';
import { VmEntity } from '../inventory/vm.entity';
import { DEFAULT_DEMAND_STATISTIC, DEFAULT_DEMAND_WINDOW_SECONDS, Demand, DemandSettings, estimateDemand, UsagePoint } from './demand';


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

function hostMhzPerCore(host: Pick<HostEntity, 'cpuMhz' | 'cpuCores'>): number {
  return host.cpuMhz / host.cpuCores;
}

/** Estimates what VMs need now from their recent samples, and what that means for their hosts. */
@Injectable()
export class DemandService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  settings(overrides: Partial<Pick<DemandSettings, 'statistic' | 'windowSeconds'>> = {}): DemandSettings {
    return {
      statistic: overrides.statistic ?? DEFAULT_DEMAND_STATISTIC,
      windowSeconds: overrides.windowSeconds ?? DEFAULT_DEMAND_WINDOW_SECONDS,
      idleTax: this.config.get('MEMORY_IDLE_TAX'),
      ewmaAlpha: this.config.get('DEMAND_EWMA_ALPHA'),
    };
  }

  /** Demand of the given VMs (all on hosts of `hosts`), from the samples of the look-back window. */
  async demandOf(vms: VmEntity[], hosts: Map<string, HostEntity>, settings: DemandSettings): Promise<Map<string, VmDemand>> {
    const since = this.clock.now() - settings.windowSeconds * 1000;
    const points = new Map<string, UsagePoint[]>();
    const clusterIds = [...new Set(vms.map((v) => v.clusterId))];
    for (const clusterId of clusterIds) {
      const rows: (UsagePoint & { subjectId: string })[] = await this.db.reader.query(
        `SELECT subjectId, timestamp, cpuMhz, memoryActiveMib, memoryConsumedMib FROM samples
          WHERE clusterId = ? AND timestamp > ? AND subjectKind = 'vm' ORDER BY subjectId, timestamp`,
        [clusterId, since],
      );
      for (const row of rows) {
        let list = points.get(row.subjectId);
        if (!list) points.set(row.subjectId, (list = []));
        list.push(row);
      }
    }
    const result = new Map<string, VmDemand>();
    for (const vm of vms) {
      const host = hosts.get(vm.hostId);
      const demand = estimateDemand(
        points.get(vm.id) ?? [],
        { ...vm, hostMhzPerCore: host ? hostMhzPerCore(host) : 0 },
        settings,
      );
      result.set(vm.id, { ...demand, vmId: vm.id, hostId: vm.hostId, poweredOn: vm.powerState === 'poweredOn' });
    }
    return result;
  }

  async vmDemand(vmId: string, settings: DemandSettings) {
    const vm = await findOr404(this.db.reader, VmEntity, vmId, 'VM');
    const host = await findOr404(this.db.reader, HostEntity, vm.hostId, 'Host');
    const demand = (await this.demandOf([vm], new Map([[host.id, host]]), settings)).get(vm.id) as VmDemand;
    return { ...demand, statistic: settings.statistic, windowSeconds: settings.windowSeconds, idleTax: settings.idleTax };
  }

  /** Host utilization as the load model defines it: the entitlements of its powered-on VMs over its capacity. */
  async hostUtilization(hostId: string, settings: DemandSettings) {
    const host = await findOr404(this.db.reader, HostEntity, hostId, 'Host');
    const vms = await this.db.reader.find(VmEntity, { where: { hostId } });
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
