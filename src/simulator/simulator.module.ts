import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { SamplesModule } from '../samples/samples.module';
import { PoliciesModule } from '../policies/policies.module';
import { DemoService } from './demo.service';

@Module({
  imports: [InventoryModule, SamplesModule, PoliciesModule],
  providers: [DemoService],
})
export class SimulatorModule {}
