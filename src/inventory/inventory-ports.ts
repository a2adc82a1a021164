// What inventory needs from the modules above it, declared here and filled by them at start-up, so
// that every import points down (inventory is imported by rules, live-migration, the balancer…,
// never the other way round). Each module that owns records hanging on a host, group or cluster
// registers an InventoryGuard; the balancer binds VM placement.
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';

export interface InventoryGuard {
  /** Problems with a host's name or address before it is stored; `prefix` names the item in a bulk request ("hosts.3."). */
  hostProblems?(host: { name: string; address?: string | null }, prefix?: string): FieldProblem[];
  vmProblems?(vm: { name: string }, prefix?: string): FieldProblem[];
  /** Why the group may not be deleted (records of the guard's module refer to it), or null. */
  groupInUse?(m: EntityManager, groupId: string): Promise<string | null>;
  /** Why the host may not be deleted now, or null. */
  hostInUse?(m: EntityManager, hostId: string): Promise<string | null>;
  /** Deletes the guard module's records of a cluster being deleted, in the deleting transaction. */
  deleteCluster?(m: EntityManager, clusterId: string): Promise<void>;
}

@Injectable()
export class InventoryGuards {
  private readonly guards: InventoryGuard[] = [];

  register(guard: InventoryGuard): void {
    this.guards.push(guard);
  }

  hostProblems(host: { name: string; address?: string | null }, prefix = ''): FieldProblem[] {
    return this.guards.flatMap((g) => g.hostProblems?.(host, prefix) ?? []);
  }

  vmProblems(vm: { name: string }, prefix = ''): FieldProblem[] {
    return this.guards.flatMap((g) => g.vmProblems?.(vm, prefix) ?? []);
  }

  /** Throws 409 with the first guard's reason. */
  async assertGroupUnused(m: EntityManager, groupId: string): Promise<void> {
    for (const g of this.guards) {
      const reason = await g.groupInUse?.(m, groupId);
      if (reason) throw new DomainError(ErrorCode.InUse, reason);
    }
  }

  async assertHostUnused(m: EntityManager, hostId: string): Promise<void> {
    for (const g of this.guards) {
      const reason = await g.hostInUse?.(m, hostId);
      if (reason) throw new DomainError(ErrorCode.InUse, reason);
    }
  }

  async deleteCluster(m: EntityManager, clusterId: string): Promise<void> {
    for (const g of this.guards) await g.deleteCluster?.(m, clusterId);
  }
}

export interface VmToPlace {
  name: string;
  vcpus: number;
  memoryMib: number;
  vmGroupIds?: string[];
}

/** Chooses the host of a VM created without one: the host id, or a DomainError saying why none. */
export interface VmPlacement {
  chooseHost(clusterId: string, vm: VmToPlace): Promise<string>;
}

@Injectable()
export class VmPlacementPort implements VmPlacement {
  private placement?: VmPlacement;

  bind(placement: VmPlacement): void {
    this.placement = placement;
  }

  chooseHost(clusterId: string, vm: VmToPlace): Promise<string> {
    if (!this.placement) throw new Error('VM placement is not bound: the balancer module is not loaded');
    return this.placement.chooseHost(clusterId, vm);
  }
}
