import { routePattern } from './http-metrics.middleware';
import { MetricsRecorder } from './metrics-recorder';
import { PrometheusRegistry } from './prometheus-registry';

const named = (name: string) => (v: object) => (v as { metricName?: string }).metricName === name;

function setup(listClusters: () => Promise<{ id: string }[]>) {
  const prometheus = new PrometheusRegistry();
  const events = new MetricsRecorder(prometheus);
  events.listClustersWith(async () => (await listClusters()).map((c) => c.id));
  const passSeries = async () =>
    (await prometheus.registry.getSingleMetric('drs_pass_duration_seconds')!.get()).values
      .filter(named('drs_pass_duration_seconds_count'))
      .map((v) => [v.labels.cluster_id, v.labels.trigger, v.value]);
  return { prometheus, events, passSeries };
}

describe('MetricsRecorder', () => {
  it('observes pass durations in seconds, per cluster and trigger', async () => {
    const { events, passSeries, prometheus } = setup(async () => [{ id: 'c1' }]);
    events.passCompleted('c1', 'manual', 1500);
    events.passCompleted('c1', 'manual', 500);
    events.passCompleted('c1', 'interval', 250);
    expect(await passSeries()).toEqual([
      ['c1', 'manual', 2],
      ['c1', 'interval', 1],
    ]);
    const sum = (await prometheus.registry.getSingleMetric('drs_pass_duration_seconds')!.get()).values.find(
      (v) => named('drs_pass_duration_seconds_sum')(v) && v.labels.trigger === 'manual',
    );
    expect(sum?.value).toBe(2);
  });

  it('drops the pass series of a deleted cluster at the next scrape, but not of one created while the list was read', async () => {
    let clusters = [{ id: 'kept' }, { id: 'deleted' }];
    let onList = () => {};
    const { events, passSeries } = setup(async () => {
      const listed = clusters;
      onList();
      return listed;
    });
    events.passCompleted('kept', 'manual', 10);
    events.passCompleted('deleted', 'manual', 10);
    clusters = [{ id: 'kept' }];
    // A cluster created, and passed, after the list was read.
    onList = () => events.passCompleted('new', 'manual', 10);
    expect((await passSeries()).map(([id]) => id)).toEqual(['kept', 'new']);
  });

  it('counts accepted samples', async () => {
    const { events, prometheus } = setup(async () => []);
    events.samplesIngested(3);
    events.samplesIngested(0);
    events.samplesIngested(2);
    expect((await prometheus.registry.getSingleMetric('drs_samples_ingested_total')!.get()).values[0].value).toBe(5);
  });
});

describe('routePattern', () => {
  it('is the matched pattern, never the raw path', () => {
    expect(routePattern({ baseUrl: '', route: { path: '/api/v1/vms/:id' } } as never)).toBe('/api/v1/vms/:id');
    expect(routePattern({ baseUrl: '/mounted', route: { path: '/x/:id' } } as never)).toBe('/mounted/x/:id');
    expect(routePattern({ baseUrl: '' } as never)).toBe('unmatched');
  });
});
