import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { InventoryModule } from '../inventory/inventory.module';
import { LiveMigrationModule } from '../live-migration/live-migration.module';
import { RecommendationsModule } from '../recommendations/recommendations.module';
import { ClusterGauges } from './cluster-gauges';

/**
 * The per-cluster gauges of GET /metrics (balance, utilization, migrations, recommendations). They
 * read several modules, so they sit above them; the registry and the recorder the rest of the app
 * reports to are in observability/, at the bottom.
 */
@Module({
  imports: [InventoryModule, BalancerModule, LiveMigrationModule, RecommendationsModule],
  providers: [ClusterGauges],
})
export class ClusterMetricsModule {}
