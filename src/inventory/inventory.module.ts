import { Module } from '@nestjs/common';
import { ClustersController } from './clusters.controller';
import { ClustersService } from './clusters.service';
import { GroupsController } from './groups.controller';
import { GroupsService } from './groups.service';
import { HostsController } from './hosts.controller';
import { HostsService } from './hosts.service';
import { InventoryGuards, VmPlacementPort } from './inventory-ports';
import { InventorySyncService } from './inventory-sync.service';
import { VmsController } from './vms.controller';
import { VmsService } from './vms.service';

@Module({
  controllers: [ClustersController, HostsController, VmsController, GroupsController],
  providers: [ClustersService, HostsService, VmsService, GroupsService, InventorySyncService, InventoryGuards, VmPlacementPort],
  exports: [ClustersService, HostsService, VmsService, GroupsService, InventorySyncService, InventoryGuards, VmPlacementPort],
})
export class InventoryModule {}
