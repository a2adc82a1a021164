import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Counter, Histogram } from 'prom-client';
import { METRIC_PREFIX, PrometheusRegistry } from './prometheus-registry';

/** Seconds; a pass plans and queues migrations, it does not wait for them. */
const PASS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The sink the rest of the app reports to as things happen (samples written, a pass done, a request
 * answered). Services depend on this small class, not on prom-client.
 */
@Injectable()
export class MetricsRecorder {
  private readonly samples: Counter;
  private readonly passDuration: Histogram<'cluster_id' | 'trigger'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Triggers seen per cluster and when last observed, so that the series of a deleted cluster can be dropped. */
  private readonly passSeries = new Map<string, { triggers: Set<string>; observedAt: number }>();
  /** The ids of the clusters that exist; set at start-up by the module that reads clusters (see ClusterMetricsModule). */
  private listClusterIds?: () => Promise<string[]>;

  constructor(prometheus: PrometheusRegistry) {
    const registers = [prometheus.registry];
    const prune = () => this.dropDeletedClusters();
    this.samples = new Counter({
      name: `${METRIC_PREFIX}samples_ingested_total`,
      help: 'Utilization samples accepted and written.',
      registers,
    });
    this.passDuration = new Histogram({
      name: `${METRIC_PREFIX}pass_duration_seconds`,
      help: 'Duration of completed balancing passes, from snapshot to record.',
      labelNames: ['cluster_id', 'trigger'],
      buckets: PASS_BUCKETS,
      registers,
      collect: prune,
    });
    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests answered by a route, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
  }

  samplesIngested(accepted: number): void {
    if (accepted > 0) this.samples.inc(accepted);
  }

  passCompleted(clusterId: string, trigger: string, durationMs: number): void {
    this.passDuration.observe({ cluster_id: clusterId, trigger }, Math.max(0, durationMs) / 1000);
    const series = this.passSeries.get(clusterId) ?? { triggers: new Set<string>(), observedAt: 0 };
    series.triggers.add(trigger);
    series.observedAt = performance.now();
    this.passSeries.set(clusterId, series);
  }

  /** `route` must be a pattern (`/api/v1/vms/:id`), never the raw path: label values must stay few. */
  httpRequestFinished(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /**
   * Before each scrape, drops the pass series of deleted clusters, so that label values stay bounded.
   * A cluster created while the list is read, and already passed, is spared by the time check.
   */
  listClustersWith(list: () => Promise<string[]>): void {
    this.listClusterIds = list;
  }

  private async dropDeletedClusters(): Promise<void> {
    if (this.passSeries.size === 0 || !this.listClusterIds) return;
    const listedAt = performance.now();
    const existing = new Set(await this.listClusterIds());
    for (const [clusterId, series] of this.passSeries) {
      if (existing.has(clusterId) || series.observedAt >= listedAt) continue;
      for (const trigger of series.triggers) this.passDuration.remove({ cluster_id: clusterId, trigger });
      this.passSeries.delete(clusterId);
    }
  }
}
