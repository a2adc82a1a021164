import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { BalancerService } from '../balancer/balancer.service';
import { BalanceReport, ContentionReport } from '../balancer/core';
import { ClustersService } from '../inventory/clusters.service';
import { MIGRATION_STATES } from '../live-migration/live-migration.entity';
import { LiveMigrationService } from '../live-migration/live-migration.service';
import { MetricsRecorder } from '../observability/metrics-recorder';
import { METRIC_PREFIX, PrometheusRegistry } from '../observability/prometheus-registry';
import { RECOMMENDATION_STATUSES } from '../recommendations/recommendation.entity';
import { RecommendationsService } from '../recommendations/recommendations.service';

interface ClusterReading {
  id: string;
  name: string;
  /** Undefined when the cluster could not be balanced (deleted mid-scrape, say): it is left out. */
  report?: BalanceReport & { contention?: ContentionReport };
  migrations: Map<string, number>;
  recommendations: Map<string, number>;
}

/**
 * VMs exported per cluster by drs_vm_contention. A series per VM would grow with the inventory; the
 * top few name the VMs an operator should look at, and a healthy cluster exports none.
 */
export const METRIC_TOP_VMS = 10;

interface CountRow {
  clusterId: string;
  key: string;
  count: number;
}

type Fill<L extends string> = (clusters: ClusterReading[], set: (labels: Record<L, string>, value: number) => void) => void;

/**
 * Gauges computed at scrape time from the modules that own the figures: cluster balance, host
 * utilization, migrations by state and recommendations by status. One scrape asks each once and
 * balances each cluster once, however many gauges it fills.
 */
@Injectable()
export class ClusterGauges implements OnModuleInit {
  private readonly logger = new Logger('Telemetry');
  private reading?: Promise<ClusterReading[]>;

  constructor(
    prometheus: PrometheusRegistry,
    private readonly clusters: ClustersService,
    private readonly balancer: BalancerService,
    private readonly migrations: LiveMigrationService,
    private readonly recommendations: RecommendationsService,
    private readonly recorder: MetricsRecorder,
  ) {
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: Fill<L>) => {
      const read = () => this.read();
      return new Gauge<L>({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames,
        registers: [prometheus.registry],
        async collect() {
          const clusters = await read();
          // No await between reset and set: a scrape never sees a half-filled gauge.
          this.reset();
          fill(clusters, (labels, value) => this.set(labels, value));
        },
      });
    };
    const balanced = (clusters: ClusterReading[]) =>
      clusters.filter((c): c is ClusterReading & { report: BalanceReport } => c.report !== undefined);

    gauge(
      'cluster_imbalance',
      'Cluster imbalance I = sqrt(w_cpu σ_cpu² + w_mem σ_mem²) over connected hosts.',
      ['cluster_id', 'cluster'],
      (clusters, set) => {
        for (const c of balanced(clusters)) set({ cluster_id: c.id, cluster: c.name }, c.report.imbalance);
      },
    );
    gauge(
      'cluster_imbalance_target',
      'Imbalance the cluster policy tolerates, (5 − L) / (10 √N).',
      ['cluster_id', 'cluster'],
      (clusters, set) => {
        for (const c of balanced(clusters)) set({ cluster_id: c.id, cluster: c.name }, c.report.target);
      },
    );
    gauge(
      'cluster_balanced',
      '1 when the cluster is within its imbalance target and gap limit, else 0.',
      ['cluster_id', 'cluster'],
      (clusters, set) => {
        for (const c of balanced(clusters)) set({ cluster_id: c.id, cluster: c.name }, c.report.balanced ? 1 : 0);
      },
    );
    gauge(
      'host_utilization',
      'Host utilization as a fraction of capacity (1 = 100 %): VM entitlements over capacity.',
      ['cluster_id', 'host_id', 'host', 'resource'],
      (clusters, set) => {
        for (const c of balanced(clusters)) {
          for (const h of c.report.hosts) {
            set({ cluster_id: c.id, host_id: h.hostId, host: h.hostName, resource: 'cpu' }, h.cpu);
            set({ cluster_id: c.id, host_id: h.hostId, host: h.hostName, resource: 'memory' }, h.memory);
          }
        }
      },
    );
    const contended = (clusters: ClusterReading[]) =>
      balanced(clusters).flatMap((c) => (c.report.contention ? [{ ...c, contention: c.report.contention }] : []));
    gauge(
      'cluster_score',
      "Cluster score 0–100: the demand-weighted mean of the share of each VM's CPU and memory demand its host serves × 100.",
      ['cluster_id', 'cluster'],
      (clusters, set) => {
        for (const c of contended(clusters)) set({ cluster_id: c.id, cluster: c.name }, c.contention.score);
      },
    );
    gauge('contended_vms', 'Powered-on VMs short of CPU or memory on their host.', ['cluster_id', 'cluster'], (clusters, set) => {
      for (const c of contended(clusters)) set({ cluster_id: c.id, cluster: c.name }, c.contention.contendedVms);
    });
    gauge(
      'cluster_demand_unmet',
      'Demand the hosts cannot serve under the ceilings: CPU in MHz, active memory in MiB.',
      ['cluster_id', 'cluster', 'resource'],
      (clusters, set) => {
        for (const c of contended(clusters)) {
          set({ cluster_id: c.id, cluster: c.name, resource: 'cpu' }, c.contention.cpuDemandUnmetMhz);
          set({ cluster_id: c.id, cluster: c.name, resource: 'memory' }, c.contention.memoryDemandUnmetMib);
        }
      },
    );
    gauge(
      'vm_contention',
      `Contention (1 − served share of demand) of the cluster's ${METRIC_TOP_VMS} most contended VMs; none when no VM is short.`,
      ['cluster_id', 'cluster', 'vm_id', 'vm', 'host_id'],
      (clusters, set) => {
        for (const c of contended(clusters)) {
          for (const v of c.contention.mostContendedVms.slice(0, METRIC_TOP_VMS))
            set({ cluster_id: c.id, cluster: c.name, vm_id: v.vmId, vm: v.vmName, host_id: v.hostId }, v.contention);
        }
      },
    );
    gauge('migrations', 'Live migrations on record, by state.', ['cluster_id', 'state'], (clusters, set) => {
      for (const c of clusters) for (const [state, count] of c.migrations) set({ cluster_id: c.id, state }, count);
    });
    gauge('recommendations', 'Recommendations on record, by status.', ['cluster_id', 'status'], (clusters, set) => {
      for (const c of clusters) for (const [status, count] of c.recommendations) set({ cluster_id: c.id, status }, count);
    });
  }

  onModuleInit(): void {
    this.recorder.listClustersWith(async () => (await this.clusters.names()).map((c) => c.id));
  }

  /** Gauges collected together share one reading: the first starts it, the others wait for it. */
  private read(): Promise<ClusterReading[]> {
    this.reading ??= this.load().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async load(): Promise<ClusterReading[]> {
    const clusters = await this.clusters.names();
    const migrations = countsByCluster(await this.migrations.countsByState(), MIGRATION_STATES);
    const recommendations = countsByCluster(await this.recommendations.countsByStatus(), RECOMMENDATION_STATUSES);
    const readings: ClusterReading[] = [];
    for (const { id, name } of clusters) {
      readings.push({
        id,
        name,
        report: await this.balance(id),
        migrations: migrations(id),
        recommendations: recommendations(id),
      });
    }
    return readings;
  }

  private async balance(clusterId: string): Promise<ClusterReading['report']> {
    try {
      return await this.balancer.balance(clusterId);
    } catch (err) {
      this.logger.warn({ err, clusterId }, 'cluster left out of the metrics: it could not be balanced');
      return undefined;
    }
  }
}

/** Per cluster, every known key with its count (0 when absent), so that a series never just vanishes. */
export function countsByCluster(rows: CountRow[], keys: readonly string[]): (clusterId: string) => Map<string, number> {
  const byCluster = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const counts = byCluster.get(row.clusterId) ?? new Map<string, number>();
    counts.set(row.key, (counts.get(row.key) ?? 0) + Number(row.count));
    byCluster.set(row.clusterId, counts);
  }
  return (clusterId) => {
    const found = byCluster.get(clusterId);
    const counts = new Map(keys.map((k) => [k, found?.get(k) ?? 0]));
    for (const [key, count] of found ?? []) counts.set(key, count);
    return counts;
  };
}
