import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { LiveMigrationModule } from '../live-migration/live-migration.module';
import { SamplesModule } from '../samples/samples.module';
import { PoliciesModule } from '../policies/policies.module';
import { BalancerController } from './balancer.controller';
import { BalancerService } from './balancer.service';
import { PlanRunner } from './plan-runner';
import { SnapshotBuilder } from './snapshot-builder';
import { BalancerVmPlacement } from './vm-placement';

@Module({
  imports: [InventoryModule, LiveMigrationModule, SamplesModule, PoliciesModule],
  controllers: [BalancerController],
  providers: [BalancerService, SnapshotBuilder, PlanRunner, BalancerVmPlacement],
  exports: [BalancerService],
})
export class BalancerModule {}
