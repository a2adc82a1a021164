import { Injectable } from '@nestjs/common';
import { findOr404 } from '../common/database-helpers';
import { DomainError } from '../common/domain-error';
import { Database } from '../database/database.service';
import { HostEntity } from '../inventory/host.entity';
import { VmEntity } from '../inventory/vm.entity';
import { DemandService } from '../metrics/demand.service';
import { BalancingPolicyDto } from './dto/balancing-policy.dto';
import { PlacementRequestDto } from './dto/placement.dto';
import { PoliciesService } from '../policies/policies.service';
import { BalancingPolicy } from './balancing-policy';
import { balanceReport, ClusterSnapshot, planMoves, rankPlacement } from './index';
import { SnapshotBuilder } from './snapshot-builder';

export type MoveCheck = { allowed: true } | { allowed: false; status: 409 | 422; reasons: string[] };

/** The balancer as the API and the scheduler use it: snapshot from the database, then pure planning. */
@Injectable()
export class BalancerService {
  constructor(
    private readonly snapshots: SnapshotBuilder,
    private readonly demand: DemandService,
    private readonly db: Database,
    private readonly policies: PoliciesService,
  ) {}

  /** The cluster's policy, with what-if overrides. */
  policyFor(clusterId: string, overrides?: BalancingPolicyDto): Promise<BalancingPolicy> {
    return this.policies.resolve(clusterId, overrides);
  }

  async snapshot(clusterId: string, policy: BalancingPolicy, cooldownVmIds?: ReadonlySet<string>): Promise<ClusterSnapshot> {
    return this.snapshots.build(clusterId, {
      demand: this.demand.settings({ statistic: policy.demandStatistic, windowSeconds: policy.demandWindowSeconds }),
      cpuBasis: policy.cpuBasis,
      memoryBasis: policy.memoryBasis,
      cooldownVmIds,
    });
  }

  async balance(clusterId: string, overrides?: BalancingPolicyDto) {
    const policy = await this.policyFor(clusterId, overrides);
    const report = balanceReport(await this.snapshot(clusterId, policy), policy);
    return { clusterId, ...report, inputs: inputsOf(policy) };
  }

  /** A dry run: nothing is written or moved. */
  async plan(clusterId: string, overrides?: BalancingPolicyDto) {
    const policy = await this.policyFor(clusterId, overrides);
    const plan = planMoves(await this.snapshot(clusterId, policy), policy);
    return { ...plan, inputs: inputsOf(policy) };
  }

  async placement(clusterId: string, request: PlacementRequestDto) {
    const policy = await this.policyFor(clusterId);
    const snapshot = await this.snapshot(clusterId, policy);
    const placeholder = 'new-vm';
    const groups = new Set(request.vmGroupIds ?? []);
    if (groups.size > 0) {
      const known: { id: string; kind: string }[] = await this.db.reader.query(
        `SELECT id, kind FROM groups WHERE clusterId = ? AND id IN (${[...groups].map(() => '?').join(',')})`,
        [clusterId, ...groups],
      );
      const missing = [...groups].filter((g) => !known.some((k) => k.id === g && k.kind === 'vm'));
      if (missing.length > 0) {
        throw DomainError.unprocessable(`Not VM groups of this cluster: ${missing.join(', ')}`, 'vmGroupIds');
      }
      const ruleGroups: { id: string; vmGroupId: string }[] = await this.db.reader.query(
        'SELECT id, vmGroupId FROM rules WHERE clusterId = ? AND enabled = 1',
        [clusterId],
      );
      const joined = new Set(ruleGroups.filter((r) => groups.has(r.vmGroupId)).map((r) => r.id));
      snapshot.rules = snapshot.rules.map((r) => (joined.has(r.id) ? { ...r, vmIds: [...r.vmIds, placeholder] } : r));
    }
    const connected = snapshot.hosts.filter((h) => h.state === 'connected');
    const hostEntities = await this.db.reader.find(HostEntity, { where: { clusterId } });
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
    const vm = await findOr404(this.db.reader, VmEntity, vmId, 'VM');
    const target = await this.db.reader.findOne(HostEntity, { where: { id: targetHostId } });
    if (!target) return { allowed: false, status: 422, reasons: [`host ${targetHostId} does not exist`] };
    if (target.clusterId !== vm.clusterId) return { allowed: false, status: 422, reasons: [`${target.name} is in another cluster than ${vm.name}`] };
    if (vm.hostId === target.id) return { allowed: false, status: 409, reasons: [`${vm.name} already runs on ${target.name}`] };
    if (target.state !== 'connected') return { allowed: false, status: 409, reasons: [`${target.name} is ${target.state}`] };
    const policy = await this.policyFor(vm.clusterId);
    const snapshot = await this.snapshot(vm.clusterId, policy);
    const self = snapshot.vms.find((v) => v.id === vm.id)!;
    if (self.migrating) return { allowed: false, status: 409, reasons: [`${vm.name} is already migrating`] };
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

function inputsOf(policy: BalancingPolicy) {
  return {
    demandStatistic: policy.demandStatistic,
    demandWindowSeconds: policy.demandWindowSeconds,
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
