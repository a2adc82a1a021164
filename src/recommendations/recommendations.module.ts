import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { LiveMigrationModule } from '../live-migration/live-migration.module';
import { EngineMigrationRequests } from './engine-migration-requests';
import { MigrationRequests } from './migration-requests';
import { RecommendationsController } from './recommendations.controller';
import { RecommendationsService } from './recommendations.service';

@Module({
  imports: [BalancerModule, LiveMigrationModule],
  controllers: [RecommendationsController],
  providers: [RecommendationsService, { provide: MigrationRequests, useClass: EngineMigrationRequests }],
  exports: [RecommendationsService],
})
export class RecommendationsModule {}
