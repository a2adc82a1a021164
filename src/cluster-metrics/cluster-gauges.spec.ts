import { Logger } from '@nestjs/common';
import type { BalancerService } from '../balancer/balancer.service';
import { BalanceReport, ContentionReport } from '../balancer/core';
import type { ClustersService } from '../inventory/clusters.service';
import type { LiveMigrationService } from '../live-migration/live-migration.service';
import { MetricsRecorder } from '../observability/metrics-recorder';
import { PrometheusRegistry } from '../observability/prometheus-registry';
import type { RecommendationsService } from '../recommendations/recommendations.service';
import { ClusterGauges, countsByCluster } from './cluster-gauges';

function report(hosts: { id: string; cpu: number; memory: number }[], imbalance = 0.1): BalanceReport {
  return {
    hosts: hosts.map((h) => ({ hostId: h.id, hostName: `name-${h.id}`, state: 'connected', cpu: h.cpu, memory: h.memory })),
    sigmaCpu: 0,
    sigmaMemory: 0,
    imbalance,
    samplingNoise: 0,
    target: 0.2,
    balanced: imbalance <= 0.2,
    balancedWithinNoise: false,
    maxMinGap: 0,
    gapLimit: 0.2,
    connectedHosts: hosts.length,
  };
}

function setup(clusters: { id: string; name: string }[], reports: Record<string, BalanceReport | Error>) {
  const rows = {
    migrations: [{ clusterId: 'c1', key: 'succeeded', count: 4 }],
    recommendations: [{ clusterId: 'c2', key: 'pending', count: 2 }],
  };
  const reader = {
    names: jest.fn(async () => clusters),
    migrationCounts: jest.fn(async () => rows.migrations),
    recommendationCounts: jest.fn(async () => rows.recommendations),
  };
  const balance = jest.fn(async (id: string) => {
    const r = reports[id];
    if (r instanceof Error) throw r;
    return r;
  });
  const prometheus = new PrometheusRegistry();
  new ClusterGauges(
    prometheus,
    { names: reader.names } as unknown as ClustersService,
    { balance } as unknown as BalancerService,
    { countsByState: reader.migrationCounts } as unknown as LiveMigrationService,
    { countsByStatus: reader.recommendationCounts } as unknown as RecommendationsService,
    new MetricsRecorder(prometheus),
  );
  const values = async (name: string) => (await prometheus.registry.getSingleMetric(name)!.get()).values;
  return { prometheus, reader, balance, values, reports };
}

describe('ClusterGauges', () => {
  it('asks each owner once and balances each cluster once per scrape, however many gauges it fills', async () => {
    const { prometheus, reader, balance } = setup(
      [
        { id: 'c1', name: 'one' },
        { id: 'c2', name: 'two' },
      ],
      { c1: report([{ id: 'h1', cpu: 0.5, memory: 0.25 }]), c2: report([]) },
    );
    await prometheus.exposition();
    expect(balance.mock.calls.map(([id]) => id)).toEqual(['c1', 'c2']);
    expect(reader.names).toHaveBeenCalledTimes(1);
    expect(reader.migrationCounts).toHaveBeenCalledTimes(1);
    expect(reader.recommendationCounts).toHaveBeenCalledTimes(1);
    await prometheus.exposition();
    expect(balance).toHaveBeenCalledTimes(4);
  });

  it('exports balance and utilization per cluster and host, and every state and status with zeros filled in', async () => {
    const { values } = setup([{ id: 'c1', name: 'one' }], { c1: report([{ id: 'h1', cpu: 0.5, memory: 0.25 }], 0.3) });
    expect(await values('drs_cluster_imbalance')).toEqual([{ labels: { cluster_id: 'c1', cluster: 'one' }, value: 0.3 }]);
    expect(await values('drs_cluster_balanced')).toEqual([{ labels: { cluster_id: 'c1', cluster: 'one' }, value: 0 }]);
    expect(await values('drs_host_utilization')).toEqual([
      { labels: { cluster_id: 'c1', host_id: 'h1', host: 'name-h1', resource: 'cpu' }, value: 0.5 },
      { labels: { cluster_id: 'c1', host_id: 'h1', host: 'name-h1', resource: 'memory' }, value: 0.25 },
    ]);
    const migrations = Object.fromEntries((await values('drs_migrations')).map((v) => [v.labels.state, v.value]));
    expect(migrations).toEqual({ queued: 0, running: 0, succeeded: 4, failed: 0, cancelled: 0 });
  });

  it('leaves out the balance of a cluster that cannot be balanced, but keeps its counts and the other clusters', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { values } = setup(
      [
        { id: 'c1', name: 'one' },
        { id: 'c2', name: 'two' },
      ],
      { c1: new Error('deleted meanwhile'), c2: report([]) },
    );
    expect((await values('drs_cluster_imbalance_target')).map((v) => v.labels.cluster_id)).toEqual(['c2']);
    expect((await values('drs_recommendations')).filter((v) => v.labels.cluster_id === 'c1')).toHaveLength(5);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ clusterId: 'c1' }), expect.any(String));
    warn.mockRestore();
  });

  it('forgets a host that is gone since the last scrape', async () => {
    const { values, reports } = setup([{ id: 'c1', name: 'one' }], {
      c1: report([
        { id: 'h1', cpu: 0.5, memory: 0.5 },
        { id: 'h2', cpu: 0.1, memory: 0.1 },
      ]),
    });
    expect(await values('drs_host_utilization')).toHaveLength(4);
    reports.c1 = report([{ id: 'h1', cpu: 0.6, memory: 0.6 }]);
    const after = await values('drs_host_utilization');
    expect(after.map((v) => [v.labels.host_id, v.value])).toEqual([
      ['h1', 0.6],
      ['h1', 0.6],
    ]);
  });
});

function withContention(score: number, contended: { id: string; contention: number }[]): BalanceReport & { contention: ContentionReport } {
  const vm = (v: { id: string; contention: number }) => ({
    vmId: v.id,
    vmName: `name-${v.id}`,
    hostId: 'h1',
    cpuDemandMhz: 1000,
    cpuServedShare: 1 - v.contention,
    memoryActiveMib: 0,
    memoryServedShare: 1,
    contention: v.contention,
  });
  return {
    ...report([{ id: 'h1', cpu: 1.2, memory: 0.5 }]),
    contention: {
      score,
      cpuDemandMhz: 12_000,
      cpuDemandUnmetMhz: 2000,
      memoryActiveMib: 0,
      memoryDemandUnmetMib: 0,
      contendedVms: contended.length,
      poweredOnVms: 12,
      hosts: [],
      mostContendedVms: contended.map(vm),
    },
  };
}

describe('ClusterGauges, contention', () => {
  it('exports the score and the contended VMs, and forgets a VM once it is served again', async () => {
    const { values, reports } = setup([{ id: 'c1', name: 'one' }], { c1: withContention(80, [{ id: 'v1', contention: 0.25 }]) });
    expect(await values('drs_cluster_score')).toEqual([{ labels: { cluster_id: 'c1', cluster: 'one' }, value: 80 }]);
    expect(await values('drs_vm_contention')).toEqual([
      { labels: { cluster_id: 'c1', cluster: 'one', vm_id: 'v1', vm: 'name-v1', host_id: 'h1' }, value: 0.25 },
    ]);
    reports.c1 = withContention(100, []);
    expect(await values('drs_vm_contention')).toEqual([]);
    expect(await values('drs_contended_vms')).toEqual([{ labels: { cluster_id: 'c1', cluster: 'one' }, value: 0 }]);
  });

  it('names at most the 10 most contended VMs of a cluster, whatever the report lists', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ id: `v${i}`, contention: 0.9 - i * 0.01 }));
    const { values } = setup([{ id: 'c1', name: 'one' }], { c1: withContention(60, many) });
    const exported = await values('drs_vm_contention');
    expect(exported.map((v) => v.labels.vm_id)).toEqual(many.slice(0, 10).map((v) => v.id));
    expect(await values('drs_contended_vms')).toEqual([{ labels: { cluster_id: 'c1', cluster: 'one' }, value: 20 }]);
  });
});

describe('countsByCluster', () => {
  it('gives every known key, 0 when absent, and keeps keys it does not know', () => {
    const counts = countsByCluster(
      [
        { clusterId: 'a', key: 'pending', count: 3 },
        { clusterId: 'a', key: 'odd', count: 1 },
      ],
      ['pending', 'applied'],
    );
    expect(Object.fromEntries(counts('a'))).toEqual({ pending: 3, applied: 0, odd: 1 });
    expect(Object.fromEntries(counts('b'))).toEqual({ pending: 0, applied: 0 });
  });
});
