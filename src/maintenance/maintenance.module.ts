import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { BalancerModule } from '../balancer/balancer.module';
import { PassesModule } from '../passes/passes.module';
import { MaintenanceController } from './maintenance.controller';
import { MaintenanceService } from './maintenance.service';

/** Hosts in and out of maintenance; entering one runs an evacuation pass through the scheduler. */
@Module({
  imports: [BalancerModule, InventoryModule, PassesModule],
  controllers: [MaintenanceController],
  providers: [MaintenanceService],
})
export class MaintenanceModule {}
