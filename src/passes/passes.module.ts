import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { InventoryModule } from '../inventory/inventory.module';
import { PoliciesModule } from '../policies/policies.module';
import { RecommendationsModule } from '../recommendations/recommendations.module';
import { PassGuards } from './pass-guards';
import { PassesController } from './passes.controller';
import { SchedulerService } from './scheduler.service';

@Module({
  imports: [BalancerModule, InventoryModule, PoliciesModule, RecommendationsModule],
  controllers: [PassesController],
  providers: [SchedulerService, PassGuards],
  exports: [SchedulerService, PassGuards],
})
export class PassesModule {}
