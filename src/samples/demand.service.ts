import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { Database } from '../database/database.service';
import { HostEntity } from '../inventory/host.entity';
import { VmEntity } from '../inventory/vm.entity';
import { SamplesSettings } from './samples.settings';
import { requireHostFound, requireVmFound, vmsOnHost } from '../inventory/inventory.repository';
import { vmCpuSumsByBucket, vmCpuSumsOutside, vmDemandSummaries, vmUsagePoints } from './samples.repository';
import { keptSpan, SWING_BUCKET_MS, SwingLedger } from './swing-ledger';
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
 * before they are worked out again. The window is read afresh every time. The swing window (3 hours by
 * default, 540 samples per VM at vCenter's 20 s) is read in full only when its swing ledger starts
 * (swing-ledger.ts), about ten times the 5-minute window's scan (npm run bench:demand); after that, working
 * the swings out reads the ledger's head and tail, up to 15 minutes of samples. A balance report is
 * renewed by every batch of samples; within a minute a 3-hour σ changes only by the samples that enter
 * and leave it (1/180 of them each at 20 s).
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
  /** Swing ledgers by cluster id, then by swing window (seconds). */
  private readonly ledgers = new Map<string, Map<number, SwingLedger>>();
  /** The last slide of each ledger, which the next one waits for. */
  private readonly sliding = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly samplesSettings: SamplesSettings,
  ) {}

  /**
   * Where a cluster-wide estimate gets each VM's swing when the swing window is longer than the window:
   * the cluster's swings worked out less than SWING_REUSE_MS ago, or worked out now from its swing ledger
   * (swing-ledger.ts: the kept buckets, plus the samples they do not hold). Either way the estimate then
   * reads only the window (`swingSince` is its start), and a VM the swings miss (its first samples came
   * meanwhile) has the window's own σ. An estimate of a few VMs (`only`) reads its own samples, cheaply,
   * and keeps nothing; so does one whose swing window is the window (`kept` undefined).
   */
  private async swingsFor(
    clusterId: string,
    settings: DemandSettings,
    window: SwingWindow,
    only?: string[],
  ): Promise<{ kept?: Map<string, number>; swingSince: number }> {
    if (only || window.swingSince >= window.since) return { swingSince: window.swingSince };
    const swing = swingSeconds(settings);
    const key = `${clusterId} ${swing}`;
    const fresh = (at: number) => at <= window.now && window.now - at < SWING_REUSE_MS;
    const entry = this.swings.get(key);
    if (entry && fresh(entry.at)) return { kept: entry.sigma, swingSince: window.since };
    // One cluster's ledger moves one estimate at a time: another's reads would land in it twice.
    const slid = (this.sliding.get(key) ?? Promise.resolve()).then(() => this.slideLedger(clusterId, swing, window));
    const settled = slid.catch(() => undefined);
    this.sliding.set(key, settled);
    void settled.then(() => {
      if (this.sliding.get(key) === settled) this.sliding.delete(key);
    });
    const sigma = await slid;
    for (const [k, e] of this.swings) if (!fresh(e.at)) this.swings.delete(k);
    this.swings.set(key, { at: window.now, sigma });
    return { kept: sigma, swingSince: window.since };
  }

  /** Slides the cluster's swing ledger to the window (started afresh when it cannot serve it); σ per VM. */
  private async slideLedger(clusterId: string, swing: number, window: SwingWindow): Promise<Map<string, number>> {
    const { from, to } = keptSpan(window.swingSince, window.now);
    let ledger = this.ledgers.get(clusterId)?.get(swing);
    if (!ledger || !ledger.servesAt(window.now, from)) {
      for (const [id, bySwing] of this.ledgers) {
        for (const [k, l] of bySwing) if (!l.servesAt(window.now, l.from)) bySwing.delete(k);
        if (bySwing.size === 0) this.ledgers.delete(id);
      }
      ledger = new SwingLedger(window.now, from);
      this.ledgers.set(clusterId, (this.ledgers.get(clusterId) ?? new Map<number, SwingLedger>()).set(swing, ledger));
    }
    ledger.dropBefore(from);
    ledger.claim(to);
    if (to > ledger.to) ledger.extend(await vmCpuSumsByBucket(this.db.reader, clusterId, ledger.to, to, SWING_BUCKET_MS), to);
    return ledger.sigmas(await vmCpuSumsOutside(this.db.reader, clusterId, window.swingSince, ledger.from, ledger.to));
  }

  /**
   * Samples of `clusterId` as old as `oldest` were just written: a swing ledger that already keeps (or
   * is reading) their bucket would miss them, so it is read afresh at the next estimate.
   */
  samplesWritten(clusterId: string, oldest: number): void {
    const bySwing = this.ledgers.get(clusterId);
    if (!bySwing) return;
    for (const [swing, ledger] of bySwing) if (oldest < ledger.claimedTo) bySwing.delete(swing);
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
      const swings = await this.swingsFor(clusterId, settings, window, only);
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
        // A VM with samples in the swing window only has none in the window: it counts at its configured size.
        if (!(row.n > 0) || row.cpu === null || row.mem === null) continue;
        summaries.set(row.subjectId, {
          cpuMhz: row.cpu,
          memoryMib: row.mem,
          sampleCount: row.n,
          cpuSigmaMhz: swings.kept?.get(row.subjectId) ?? sigma,
        });
      }
    }
    return (vm: DemandVm, size: ConfiguredSize): Demand => demandFromSummary(summaries.get(vm.id), size);
  }

  /** Statistics that need every sample in time order (p80, EWMA). */
  private async summarizedFromPoints(clusterIds: string[], window: SwingWindow, settings: DemandSettings, only?: string[]) {
    const points = new Map<string, UsagePoint[]>();
    const sigmas = new Map<string, number>();
    for (const clusterId of clusterIds) {
      const swings = await this.swingsFor(clusterId, settings, window, only);
      const byVm = new Map<string, UsagePoint[]>();
      for (const row of await vmUsagePoints(this.db.reader, clusterId, Math.min(window.since, swings.swingSince), only)) {
        let list = byVm.get(row.subjectId);
        if (!list) byVm.set(row.subjectId, (list = []));
        list.push(row);
      }
      for (const [vmId, all] of byVm) {
        const sigma = standardDeviation(all.map((p) => p.cpuMhz));
        sigmas.set(vmId, swings.kept?.get(vmId) ?? sigma);
        points.set(
          vmId,
          all.filter((p) => p.timestamp > window.since),
        );
      }
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
