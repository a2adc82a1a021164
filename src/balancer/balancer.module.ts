import { Module } from '@nestjs/common';
import { SamplesModule } from '../samples/samples.module';
import { PoliciesModule } from '../policies/policies.module';
import { BalancerController } from './balancer.controller';
import { BalancerService } from './balancer.service';
import { PlanRunner } from './plan-runner';
import { SnapshotBuilder } from './snapshot-builder';

@Module({
  imports: [SamplesModule, PoliciesModule],
  controllers: [BalancerController],
  providers: [BalancerService, SnapshotBuilder, PlanRunner],
  exports: [BalancerService],
})
export class BalancerModule {}
