import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import { Database } from '../database/database.service';
import { findHost, groupKinds, hostsOfCluster, requireVmFound } from '../inventory/inventory.repository';
import { enabledRuleVmGroups } from '../rules/rules.repository';
import { DemandService } from '../samples/demand.service';
import { BalancingPolicyDto } from '../policies/balancing-policy.dto';
import { PlacementRequestDto } from './dto/placement.dto';
import { PoliciesService } from '../policies/policies.service';
import { BalancingPolicy } from '../policies/balancing-policy';
import { balanceReport, ClusterSnapshot, contentionReport, Plan, PlannerPolicy, rankPlacement } from './core';
import { PlanRequest, PlanRunner } from './plan-runner';
import { JsonText } from '../common/json-page';
import { StampedCache } from './stamped-cache';
import { SnapshotBuilder } from './snapshot-builder';
import type { MoveCheck, MoveChecker } from '../live-migration/move-check-port';

/**
 * A balance report is reused while no write has touched the cluster's inputs (see Database.changeStamp),
 * for at most this long: the demand window (minutes) slides, and other processes may write to the file.
 * New samples of a cluster (every 20 s from vCenter) are writes, so they renew its report anyway.
 */
const BALANCE_REUSE_MS = 10_000;

/** The balancer as the API and the scheduler use it: snapshot from the database, then pure planning. */
@Injectable()
export class BalancerService implements MoveChecker {
  /** Each report with its JSON text, printed on first ask: once per report rather than once per request. */
  private readonly reports = new StampedCache<{ view: BalanceView; json?: JsonText<BalanceView> }>(256, BALANCE_REUSE_MS);

  constructor(
    private readonly snapshots: SnapshotBuilder,
    private readonly demand: DemandService,
    private readonly db: Database,
    private readonly policies: PoliciesService,
    private readonly planner: PlanRunner,
    private readonly clock: Clock,
  ) {}

  /** The cluster's policy, with what-if overrides. */
  policyFor(clusterId: string, overrides?: BalancingPolicyDto): Promise<BalancingPolicy> {
    return this.policies.resolve(clusterId, overrides);
  }

  async snapshot(clusterId: string, policy: BalancingPolicy, cooldownVmIds?: ReadonlySet<string>): Promise<ClusterSnapshot> {
    return this.snapshots.build(clusterId, {
      demand: this.demand.settings({
        statistic: policy.demandStatistic,
        windowSeconds: policy.demandWindowSeconds,
        swingWindowSeconds: policy.swingWindowSeconds,
      }),
      cpuBasis: policy.cpuBasis,
      memoryBasis: policy.memoryBasis,
      cooldownVmIds,
    });
  }

  /**
   * The cluster's balance now. Dashboards and scrapers ask for it all the time and it reads every VM's
   * samples, so a report is shared by the requests that come while the cluster is unchanged (shortly).
   * Treat it as read-only.
   */
  async balance(clusterId: string, overrides?: BalancingPolicyDto): Promise<BalanceView> {
    return (await this.report(clusterId, overrides)).view;
  }

  /** balance() as the API sends it. */
  async balanceJson(clusterId: string, overrides?: BalancingPolicyDto): Promise<JsonText<BalanceView>> {
    const report = await this.report(clusterId, overrides);
    return (report.json ??= JSON.stringify(report.view));
  }

  private report(clusterId: string, overrides?: BalancingPolicyDto) {
    const key = `${clusterId} ${overridesKey(overrides)}`;
    return this.reports.get(key, this.db.changeStamp(clusterId), this.clock.now(), async () => {
      const policy = await this.policyFor(clusterId, overrides);
      const snapshot = await this.snapshot(clusterId, policy);
      const report = balanceReport(snapshot, policy);
      // VMs their platform holds where they are: they count for load, and this service will not move them.
      const heldVms = snapshot.vms.flatMap((v) => (v.heldBy ? [{ vmId: v.id, vmName: v.name, hostId: v.hostId, heldBy: v.heldBy }] : []));
      const contention = contentionReport(snapshot, policy);
      return { view: { clusterId, ...report, heldVms, contention, inputs: inputsOf(policy) } };
    });
  }

  /**
   * A dry run: nothing is written or moved. The cluster is read when the plan's turn in the planner
   * queue comes (see PlanRunner), so a what-if refused or dropped while it waits costs nothing.
   */
  async plan(clusterId: string, overrides: BalancingPolicyDto | undefined, request: PlanRequest) {
    let policy: BalancingPolicy | undefined;
    const plan = await this.planner.run(async () => {
      policy = await this.policyFor(clusterId, overrides);
      return { snapshot: await this.snapshot(clusterId, policy), policy };
    }, request);
    return { ...plan, inputs: inputsOf(policy!) };
  }

  /** A pass or an evacuation: no what-if starts until it is done (see PlanRunner). */
  aheadOfWhatIfs<T>(work: () => Promise<T>): Promise<T> {
    return this.planner.holdingWhatIfs(work);
  }

  /**
   * planMoves, off the event loop (see PlanRunner), on the snapshot `read` gives when the plan's turn
   * comes: a pass queued behind others plans on the cluster as it then is, and holds no snapshot while
   * it waits.
   */
  async planInTurn(
    read: () => Promise<ClusterSnapshot>,
    policy: PlannerPolicy,
    request: PlanRequest,
  ): Promise<{ snapshot: ClusterSnapshot; plan: Plan }> {
    const input: { snapshot?: ClusterSnapshot } = {};
    const plan = await this.planner.run(async () => ({ snapshot: (input.snapshot = await read()), policy }), request);
    return { snapshot: input.snapshot as ClusterSnapshot, plan };
  }

  /**
   * The hosts ranked for a new VM. Ranking is one quick scoring round, made on the event loop; asked
   * through the API (`request` given) it waits its turn with the what-ifs, since reading a large
   * cluster is what a flood of them would cost.
   */
  placement(clusterId: string, placement: PlacementRequestDto, request?: PlanRequest) {
    return request ? this.planner.inTurn(request, () => this.rankHosts(clusterId, placement)) : this.rankHosts(clusterId, placement);
  }

  private async rankHosts(clusterId: string, request: PlacementRequestDto) {
    const policy = await this.policyFor(clusterId);
    const snapshot = await this.snapshot(clusterId, policy);
    const placeholder = 'new-vm';
    const groups = new Set(request.vmGroupIds ?? []);
    if (groups.size > 0) {
      const known = await groupKinds(this.db.reader, clusterId, [...groups]);
      const missing = [...groups].filter((g) => !known.some((k) => k.id === g && k.kind === 'vm'));
      if (missing.length > 0) {
        throw DomainError.unprocessable(`Not VM groups of this cluster: ${missing.join(', ')}`, 'vmGroupIds');
      }
      const ruleGroups = await enabledRuleVmGroups(this.db.reader, clusterId);
      const joined = new Set(ruleGroups.filter((r) => groups.has(r.vmGroupId)).map((r) => r.id));
      snapshot.rules = snapshot.rules.map((r) => (joined.has(r.id) ? { ...r, vmIds: [...r.vmIds, placeholder] } : r));
    }
    const connected = snapshot.hosts.filter((h) => h.state === 'connected');
    const hostEntities = await hostsOfCluster(this.db.reader, clusterId);
    const mhzPerCore = median(hostEntities.filter((h) => connected.some((c) => c.id === h.id)).map((h) => h.cpuMhz / h.cpuCores));
    const ranking = rankPlacement(
      snapshot,
      {
        vmId: placeholder,
        name: request.name,
        cpuMhz: request.cpuMhz ?? request.vcpus * mhzPerCore,
        memoryMib: request.memoryMib,
        configuredMemoryMib: request.memoryMib,
      },
      policy,
    );
    return { clusterId, ...ranking };
  }

  /**
   * May this VM move to this host now? The same hard checks as the planner: the target connected,
   * room under the ceilings (counting memory reserved by in-flight migrations), hard rules.
   */
  async checkMove(vmId: string, targetHostId: string): Promise<MoveCheck> {
    const vm = await requireVmFound(this.db.reader, vmId);
    const target = await findHost(this.db.reader, targetHostId);
    if (!target) return { allowed: false, status: 422, reasons: [`host ${targetHostId} does not exist`] };
    if (target.clusterId !== vm.clusterId)
      return { allowed: false, status: 422, reasons: [`${target.name} is in another cluster than ${vm.name}`] };
    if (vm.hostId === target.id) return { allowed: false, status: 409, reasons: [`${vm.name} already runs on ${target.name}`] };
    if (target.state !== 'connected') return { allowed: false, status: 409, reasons: [`${target.name} is ${target.state}`] };
    const policy = await this.policyFor(vm.clusterId);
    const snapshot = await this.snapshot(vm.clusterId, policy);
    const self = snapshot.vms.find((v) => v.id === vm.id)!;
    if (self.migrating) return { allowed: false, status: 409, reasons: [`${vm.name} is already migrating`] };
    if (vm.heldBy) return { allowed: false, status: 409, reasons: [`${vm.name} is held where it is by its platform: ${vm.heldBy}`] };
    const ranking = rankPlacement(
      snapshot,
      { vmId: vm.id, name: vm.name, cpuMhz: self.cpuMhz, memoryMib: self.memoryMib, configuredMemoryMib: vm.memoryMib },
      policy,
    );
    if (ranking.ranked.some((r) => r.hostId === target.id)) return { allowed: true };
    const excluded = ranking.excluded.filter((e) => e.hostId === target.id).map((e) => e.explanation);
    return { allowed: false, status: 422, reasons: excluded.length > 0 ? excluded : [`${target.name} cannot take ${vm.name}`] };
  }
}

type BalanceView = {
  clusterId: string;
  heldVms: { vmId: string; vmName: string; hostId: string; heldBy: string }[];
  contention: ReturnType<typeof contentionReport>;
  inputs: ReturnType<typeof inputsOf>;
} & ReturnType<typeof balanceReport>;

/** The what-if overrides that were given, in a stable order. */
function overridesKey(overrides: BalancingPolicyDto | undefined): string {
  if (!overrides) return '';
  const given = Object.entries(overrides).filter(([, value]) => value !== undefined);
  return JSON.stringify(given.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function inputsOf(policy: BalancingPolicy) {
  return {
    demandStatistic: policy.demandStatistic,
    demandWindowSeconds: policy.demandWindowSeconds,
    swingWindowSeconds: policy.swingWindowSeconds,
    cpuBasis: policy.cpuBasis,
    memoryBasis: policy.memoryBasis,
    policy,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
