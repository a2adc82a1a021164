import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { InventoryGuard, InventoryGuards } from '../inventory/inventory-ports';
import { PassGuards } from '../passes/pass-guards';
import { ConnectorLoops } from './connector-loops';
import { ConnectorStore } from './connectors.repository';

/** A deleted cluster takes its connector along; a degraded connector holds the cluster's passes back. */
@Injectable()
export class ConnectorsGuards implements InventoryGuard, OnModuleInit {
  constructor(
    private readonly inventoryGuards: InventoryGuards,
    private readonly passGuards: PassGuards,
    private readonly store: ConnectorStore,
    private readonly loops: ConnectorLoops,
  ) {}

  onModuleInit(): void {
    this.inventoryGuards.register(this);
    this.passGuards.register({ whyNotNow: (clusterId) => Promise.resolve(this.loops.whyNotNow(clusterId)) });
  }

  async deleteCluster(m: EntityManager, clusterId: string): Promise<void> {
    await this.store.remove(m, clusterId);
  }
}
