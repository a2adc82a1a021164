import { Global, Module } from '@nestjs/common';
import { PrometheusController } from './prometheus.controller';
import { MetricsRecorder } from './metrics-recorder';
import { PrometheusRegistry } from './prometheus-registry';

/**
 * Prometheus metrics at GET /metrics. At the bottom of the layers and global, so that any service can
 * report through MetricsRecorder; the gauges that read clusters are in cluster-metrics/, on top.
 * Request timings come from the httpMetrics middleware, which configureApp installs.
 */
@Global()
@Module({
  controllers: [PrometheusController],
  providers: [PrometheusRegistry, MetricsRecorder],
  exports: [PrometheusRegistry, MetricsRecorder],
})
export class ObservabilityModule {}
