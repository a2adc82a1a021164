import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { LiveMigrationModule } from '../live-migration/live-migration.module';
import { PoliciesModule } from '../policies/policies.module';
import { RecommendationsController } from '../recommendations/recommendations.controller';
import { RecommendationsService } from '../recommendations/recommendations.service';
import { MigrationRequests } from './migration-requests';
import { EngineMigrationRequests } from './engine-migration-requests';
import { PassesController } from './passes.controller';
import { SchedulerService } from './scheduler.service';

@Module({
  imports: [BalancerModule, PoliciesModule, LiveMigrationModule],
  controllers: [PassesController, RecommendationsController],
  providers: [
    SchedulerService,
    RecommendationsService,
    { provide: MigrationRequests, useClass: EngineMigrationRequests },
  ],
  exports: [SchedulerService],
})
export class PassesModule {}
