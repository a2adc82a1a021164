import { Global, Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { ClusterGauges } from './cluster-gauges';
import { TelemetryController } from './telemetry.controller';
import { TelemetryEvents } from './telemetry-events';
import { TelemetryService } from './telemetry.service';

/**
 * Prometheus metrics at GET /metrics. Global so that any service can report through TelemetryEvents
 * without its module importing this one (which imports the balancer, and so would make a cycle).
 * Request timings come from the httpMetrics middleware, which configureApp installs.
 */
@Global()
@Module({
  imports: [BalancerModule],
  controllers: [TelemetryController],
  providers: [TelemetryService, TelemetryEvents, ClusterGauges],
  exports: [TelemetryEvents],
})
export class TelemetryModule {}
