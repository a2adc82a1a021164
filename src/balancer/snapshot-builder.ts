import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { findOr404 } from '../common/database-helpers';
import { Database } from '../database/database.service';
import { ClusterEntity } from '../inventory/cluster.entity';
import { HostEntity } from '../inventory/host.entity';
import { VM_FIELDS, VmEntity } from '../inventory/vm.entity';
import { ACTIVE_MIGRATION_STATES, LiveMigrationEntity } from '../live-migration/live-migration.entity';
import { DemandSettings } from '../samples/demand';
import { DemandService } from '../samples/demand.service';
import { RuleEntity } from '../rules/rule.entity';
import { Basis } from '../policies/balancing-policy';
import { ClusterSnapshot, InFlightMigration, RuleSnapshot, VmSnapshot } from './core';

export interface SnapshotInputs {
  demand: DemandSettings;
  cpuBasis: Basis;
  memoryBasis: Basis;
  /** VMs not to move for balancing (moved recently). */
  cooldownVmIds?: ReadonlySet<string>;
}

const HOST_COLUMNS = ['id', 'name', 'state', 'cpuCores', 'cpuMhz', 'memoryMib', 'migrationGbps'] as const;
type HostRow = Pick<HostEntity, (typeof HOST_COLUMNS)[number]>;
const VM_COLUMNS = VM_FIELDS;
type VmRow = Pick<VmEntity, (typeof VM_COLUMNS)[number]>;

/** Reads a cluster from the database into the balancer's plain snapshot: capacities, entitlements, rules. */
@Injectable()
export class SnapshotBuilder {
  constructor(
    private readonly db: Database,
    private readonly demand: DemandService,
  ) {}

  async build(clusterId: string, inputs: SnapshotInputs): Promise<ClusterSnapshot> {
    const m = this.db.reader;
    await findOr404(m, ClusterEntity, clusterId, 'Cluster');
    // Plain rows of the columns used, not entities: a cluster has a thousand VMs, and this runs for
    // every pass, plan and balance report.
    const hosts: HostRow[] = await m.query(
      `SELECT ${HOST_COLUMNS.join(', ')} FROM hosts WHERE clusterId = ? ORDER BY name ASC`,
      [clusterId],
    );
    const vms: VmRow[] = await m.query(`SELECT ${VM_COLUMNS.join(', ')} FROM vms WHERE clusterId = ? ORDER BY name ASC`, [clusterId]);
    const hostById = new Map(hosts.map((h) => [h.id, h]));
    const demand = await this.demand.demandOf(vms, hostById, inputs.demand);
    const inFlight = await this.inFlight(clusterId);
    const migrating = new Set(inFlight.map((f) => f.vmId));

    const vmSnapshots: VmSnapshot[] = vms.map((vm) => {
      const host = hostById.get(vm.hostId)!;
      const estimate = demand.get(vm.id)!;
      return {
        id: vm.id,
        name: vm.name,
        hostId: vm.hostId,
        poweredOn: vm.powerState === 'poweredOn',
        cpuMhz: inputs.cpuBasis === 'configured' ? (vm.vcpus * host.cpuMhz) / host.cpuCores : estimate.entitlement.cpuMhz,
        memoryMib: inputs.memoryBasis === 'configured' ? vm.memoryMib : estimate.entitlement.memoryMib,
        configuredMemoryMib: vm.memoryMib,
        automation: vm.automation,
        migrating: migrating.has(vm.id),
        inCooldown: inputs.cooldownVmIds?.has(vm.id) ?? false,
      };
    });

    return {
      clusterId,
      hosts: hosts.map((h) => ({
        id: h.id,
        name: h.name,
        state: h.state,
        cpuCapacityMhz: h.cpuMhz,
        memoryCapacityMib: h.memoryMib,
        migrationGbps: h.migrationGbps,
      })),
      vms: vmSnapshots,
      rules: await this.rules(clusterId),
      inFlight: inFlight.map((f) => ({ ...f, cpuMhz: vmSnapshots.find((v) => v.id === f.vmId)?.cpuMhz ?? 0 })),
    };
  }

  /** Enabled rules with their groups resolved to member ids. */
  private async rules(clusterId: string): Promise<RuleSnapshot[]> {
    const m = this.db.reader;
    const rules = await m.find(RuleEntity, { where: { clusterId, enabled: true }, order: { name: 'ASC' } });
    if (rules.length === 0) return [];
    const groupIds = [...new Set(rules.flatMap((r) => [r.vmGroupId, r.hostGroupId].filter((g): g is string => !!g)))];
    const placeholders = groupIds.map(() => '?').join(',');
    const vmMembers: { groupId: string; vmId: string }[] = await m.query(
      `SELECT groupId, vmId FROM vm_group_members WHERE groupId IN (${placeholders}) ORDER BY vmId`,
      groupIds,
    );
    const hostMembers: { groupId: string; hostId: string }[] = await m.query(
      `SELECT groupId, hostId FROM host_group_members WHERE groupId IN (${placeholders}) ORDER BY hostId`,
      groupIds,
    );
    const members = (rows: { groupId: string; id: string }[], groupId: string | null) =>
      groupId ? rows.filter((r) => r.groupId === groupId).map((r) => r.id) : [];
    const vmRows = vmMembers.map((r) => ({ groupId: r.groupId, id: r.vmId }));
    const hostRows = hostMembers.map((r) => ({ groupId: r.groupId, id: r.hostId }));
    return rules.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      enforcement: r.enforcement,
      vmIds: members(vmRows, r.vmGroupId),
      ...(r.kind === 'vm-host' ? { hostIds: members(hostRows, r.hostGroupId), relation: r.relation ?? undefined } : {}),
    }));
  }

  /** Migrations queued or running: their VMs do not move again, and their targets hold the memory. */
  private async inFlight(clusterId: string): Promise<Omit<InFlightMigration, 'cpuMhz'>[]> {
    const rows = await this.db.reader.find(LiveMigrationEntity, {
      where: { clusterId, state: In([...ACTIVE_MIGRATION_STATES]) },
      select: { vmId: true, sourceHostId: true, targetHostId: true, memoryMib: true },
      order: { createdAt: 'ASC' },
    });
    return rows.map((r) => ({ vmId: r.vmId, fromHostId: r.sourceHostId, toHostId: r.targetHostId, memoryMib: r.memoryMib }));
  }
}
