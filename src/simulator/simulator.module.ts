import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PoliciesModule } from '../policies/policies.module';
import { DemoService } from './demo.service';

@Module({
  imports: [InventoryModule, MetricsModule, PoliciesModule],
  providers: [DemoService],
})
export class SimulatorModule {}
