import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { PoliciesModule } from '../policies/policies.module';
import { ClustersController } from './clusters.controller';
import { ClustersService } from './clusters.service';
import { GroupsController } from './groups.controller';
import { GroupsService } from './groups.service';
import { HostsController } from './hosts.controller';
import { HostsService } from './hosts.service';
import { InventorySyncService } from './inventory-sync.service';
import { VmsController } from './vms.controller';
import { VmsService } from './vms.service';

@Module({
  imports: [BalancerModule, PoliciesModule],
  controllers: [ClustersController, HostsController, VmsController, GroupsController],
  providers: [ClustersService, HostsService, VmsService, GroupsService, InventorySyncService],
  exports: [ClustersService, HostsService, VmsService, GroupsService, InventorySyncService],
})
export class InventoryModule {}
