import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.service';
import type { HostEntity } from '../inventory/host.entity';
import { groupMembers, hostRows, requireClusterFound, vmRows } from '../inventory/inventory.repository';
import { VM_FIELDS, type VmEntity } from '../inventory/vm.entity';
import { activeMigrations } from '../live-migration/migrations.repository';
import { enabledRules } from '../rules/rules.repository';
import { DemandSettings } from '../samples/demand';
import { DemandService } from '../samples/demand.service';
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
    await requireClusterFound(m, clusterId);
    const hosts: HostRow[] = await hostRows(m, clusterId, HOST_COLUMNS);
    const vms: VmRow[] = await vmRows(m, clusterId, VM_COLUMNS);
    const hostById = new Map(hosts.map((h) => [h.id, h]));
    const demand = await this.demand.demandOf(vms, hostById, inputs.demand);
    const inFlight = await this.inFlight(clusterId);
    const migrating = new Set(inFlight.map((f) => f.vmId));

    const vmSnapshots: VmSnapshot[] = vms.map((vm) => {
      const host = hostById.get(vm.hostId)!;
      const estimate = demand.get(vm.id)!;
      const snapshot: VmSnapshot = {
        id: vm.id,
        name: vm.name,
        hostId: vm.hostId,
        poweredOn: vm.powerState === 'poweredOn',
        cpuMhz: inputs.cpuBasis === 'configured' ? (vm.vcpus * host.cpuMhz) / host.cpuCores : estimate.entitlement.cpuMhz,
        memoryMib: inputs.memoryBasis === 'configured' ? vm.memoryMib : estimate.entitlement.memoryMib,
        configuredMemoryMib: vm.memoryMib,
        // A VM its platform holds where it is counts for load and never moves, whatever its own setting.
        automation: vm.heldBy ? 'disabled' : vm.automation,
        ...(vm.heldBy ? { heldBy: vm.heldBy } : {}),
        migrating: migrating.has(vm.id),
        inCooldown: inputs.cooldownVmIds?.has(vm.id) ?? false,
        // For contention: what the VM asks for, whatever basis the load model uses.
        cpuDemandMhz: capped(estimate.cpuMhz, vm.cpuLimitMhz),
        cpuReservationMhz: vm.cpuReservationMhz,
        memoryActiveMib: capped(estimate.memoryMib, vm.memoryLimitMib),
      };
      // How much the VM's CPU demand moves: only when the load model counts demand (a configured size does not move).
      if (inputs.cpuBasis === 'demand' && estimate.cpuSigmaMhz) {
        snapshot.cpuSigmaMhz = estimate.cpuSigmaMhz;
        snapshot.cpuSampleCount = estimate.sampleCount;
      }
      return snapshot;
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
    const rules = await enabledRules(m, clusterId);
    if (rules.length === 0) return [];
    const groupIds = [...new Set(rules.flatMap((r) => [r.vmGroupId, r.hostGroupId].filter((g): g is string => !!g)))];
    const { vms: vmMembers, hosts: hostMembers } = await groupMembers(m, groupIds);
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
    const rows = await activeMigrations(this.db.reader, clusterId);
    return rows.map((r) => ({ vmId: r.vmId, fromHostId: r.sourceHostId, toHostId: r.targetHostId, memoryMib: r.memoryMib }));
  }
}

/** A limit caps what a VM can get: demand above it is the VM's own setting, not contention. */
function capped(value: number, limit: number | null): number {
  return limit === null ? value : Math.min(value, limit);
}
