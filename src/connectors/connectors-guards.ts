import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { InventoryGuard, InventoryGuards } from '../inventory/inventory-ports';
import { ClusterDrivers } from '../live-migration/cluster-drivers';
import { PassGuards } from '../passes/pass-guards';
import { ConnectorLoops } from './connector-loops';
import { ConnectorStore } from './connectors.repository';

/**
 * A deleted cluster takes its connector along; a degraded connector holds the cluster's passes back; a
 * cluster with a connector has its VMs moved through it (the engine leases its migration driver).
 */
@Injectable()
export class ConnectorsGuards implements InventoryGuard, OnModuleInit {
  constructor(
    private readonly inventoryGuards: InventoryGuards,
    private readonly passGuards: PassGuards,
    private readonly clusterDrivers: ClusterDrivers,
    private readonly store: ConnectorStore,
    private readonly loops: ConnectorLoops,
  ) {}

  onModuleInit(): void {
    this.inventoryGuards.register(this);
    this.passGuards.register({ whyNotNow: (clusterId) => Promise.resolve(this.loops.whyNotNow(clusterId)) });
    this.clusterDrivers.register({ lease: (clusterId) => this.loops.leaseDriver(clusterId) });
  }

  async deleteCluster(m: EntityManager, clusterId: string): Promise<void> {
    await this.store.remove(m, clusterId);
  }
}
