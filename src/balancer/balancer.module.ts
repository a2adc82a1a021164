import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { PoliciesModule } from '../policies/policies.module';
import { BalancerController } from './balancer.controller';
import { BalancerService } from './balancer.service';
import { PlanRunner } from './plan-runner';
import { SnapshotBuilder } from './snapshot-builder';

@Module({
  imports: [MetricsModule, PoliciesModule],
  controllers: [BalancerController],
  providers: [BalancerService, SnapshotBuilder, PlanRunner],
  exports: [BalancerService],
})
export class BalancerModule {}
