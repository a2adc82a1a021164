import { Global, Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { ClusterGauges } from './cluster-gauges';
import { PrometheusController } from './prometheus.controller';
import { MetricsRecorder } from './metrics-recorder';
import { PrometheusRegistry } from './prometheus-registry';

/**
 * Prometheus metrics at GET /metrics. Global so that any service can report through MetricsRecorder
 * without its module importing this one (which imports the balancer, and so would make a cycle).
 * Request timings come from the httpMetrics middleware, which configureApp installs.
 */
@Global()
@Module({
  imports: [BalancerModule],
  controllers: [PrometheusController],
  providers: [PrometheusRegistry, MetricsRecorder, ClusterGauges],
  exports: [MetricsRecorder],
})
export class ObservabilityModule {}
