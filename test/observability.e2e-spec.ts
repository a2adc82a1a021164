import TestAgent from 'supertest/lib/agent';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

// No scheduler ticks: every pass in this file is one the test asked for.
const ENV = { MIGRATION_TIME_SCALE: 10_000, SCHEDULER_ENABLED: false };
const HOST = { cpuCores: 10, cpuMhz: 20_000, memoryMib: 65_536 };
const VM = { vcpus: 2, memoryMib: 8192 };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, as far as prom-client writes it: `name{label="value",...} number`. */
function parseExposition(text: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    series.push({ name: match[1], labels, value });
  }
  return series;
}

class Scrape {
  constructor(readonly series: Series[]) {}

  /** Every series of `name` whose labels include `labels`. */
  all(name: string, labels: Record<string, string> = {}): Series[] {
    return this.series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of the one series of `name` with these labels; undefined if there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.all(name, labels);
    if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
    return found[0]?.value;
  }

  /** Count by key label, e.g. migrations by state. */
  byLabel(name: string, labels: Record<string, string>, key: string): Record<string, number> {
    return Object.fromEntries(this.all(name, labels).map((s) => [s.labels[key], s.value]));
  }
}

async function scrape(http: TestAgent): Promise<Scrape> {
  const res = await http.get('/metrics').expect(200);
  // Express writes the parameters in its own order; Prometheus reads them in any.
  expect(res.headers['content-type']).toMatch(/^text\/plain;/);
  expect(res.headers['content-type']).toContain('version=0.0.4');
  return new Scrape(parseExposition(res.text));
}

const ZERO_MIGRATIONS = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
const ZERO_RECOMMENDATIONS = { pending: 0, applied: 0, dismissed: 0, superseded: 0, expired: 0 };

describe('Prometheus metrics at /metrics', () => {
  let t: TestApp;
  let cluster: { id: string; name: string };
  let hostA: { id: string; name: string };
  let hostB: { id: string; name: string };
  let vm3: { id: string };

  beforeAll(async () => {
    t = await createTestApp({ env: ENV });
    // The known cluster: hosts a and b of 10 cores × 2,000 MHz = 20,000 MHz and 65,536 MiB each;
    // three VMs of 2 vCPU and 8,192 MiB, all on a, b empty. A VM without samples counts at its
    // configured size: 2 × 2,000 = 4,000 MHz and 8,192 MiB.
    cluster = await createCluster(t.http);
    hostA = await createHost(t.http, cluster.id, { ...HOST, name: 'a' });
    hostB = await createHost(t.http, cluster.id, { ...HOST, name: 'b' });
    await createVm(t.http, cluster.id, hostA.id, { ...VM, name: 'vm-1' });
    await createVm(t.http, cluster.id, hostA.id, { ...VM, name: 'vm-2' });
    vm3 = await createVm(t.http, cluster.id, hostA.id, { ...VM, name: 'vm-3' });
  });
  afterAll(() => t.close());

  it('reports the balance and the host utilizations of a known cluster, computed at scrape time', async () => {
    const m = await scrape(t.http);
    const of = { cluster_id: cluster.id };
    // a: cpu 3 × 4,000 / 20,000 = 0.6, memory 3 × 8,192 / 65,536 = 0.375; b: 0 and 0.
    expect(m.value('drs_host_utilization', { ...of, host_id: hostA.id, host: 'a', resource: 'cpu' })).toBeCloseTo(0.6, 12);
    expect(m.value('drs_host_utilization', { ...of, host_id: hostA.id, host: 'a', resource: 'memory' })).toBeCloseTo(0.375, 12);
    expect(m.value('drs_host_utilization', { ...of, host_id: hostB.id, host: 'b', resource: 'cpu' })).toBe(0);
    expect(m.value('drs_host_utilization', { ...of, host_id: hostB.id, host: 'b', resource: 'memory' })).toBe(0);
    expect(m.all('drs_host_utilization', of)).toHaveLength(4);
    // σ_cpu = 0.6 / 2 = 0.3, σ_mem = 0.375 / 2 = 0.1875; default weights 0.5 / 0.5:
    // I = √(0.5 × 0.09 + 0.5 × 0.03515625) = √0.062578125 ≈ 0.250156
    const labels = { cluster_id: cluster.id, cluster: cluster.name };
    expect(m.value('drs_cluster_imbalance', labels)).toBeCloseTo(Math.sqrt(0.062578125), 12);
    // Target at the default threshold L = 3 with N = 2: (5 − 3) / (10 √2) ≈ 0.141421; I is above it.
    expect(m.value('drs_cluster_imbalance_target', labels)).toBeCloseTo(2 / (10 * Math.SQRT2), 12);
    expect(m.value('drs_cluster_balanced', labels)).toBe(0);
    // Nothing has happened yet: every state and status is there, at 0.
    expect(m.byLabel('drs_migrations', of, 'state')).toEqual(ZERO_MIGRATIONS);
    expect(m.byLabel('drs_recommendations', of, 'status')).toEqual(ZERO_RECOMMENDATIONS);
    // Lopsided but not short: host a serves all 12,000 MHz its VMs ask for.
    expect(m.value('drs_cluster_score', labels)).toBe(100);
    expect(m.value('drs_contended_vms', labels)).toBe(0);
    expect(m.all('drs_vm_contention', of)).toEqual([]);
  });

  it('scores contention, and names only the 10 most contended VMs of a cluster', async () => {
    const short = await createCluster(t.http);
    const host = await createHost(t.http, short.id, { ...HOST, name: 'crowded' });
    // 12 VMs at their configured size, 4,000 MHz and 8,192 MiB each, on one host: CPU 48,000 of 20,000
    // MHz (each VM served 20/48), memory 98,304 of 65,536 MiB (each holds 2/3 in RAM): contention 1 − 20/48.
    for (let i = 1; i <= 12; i++) await createVm(t.http, short.id, host.id, { ...VM, name: `crowd-${i}` });
    const m = await scrape(t.http);
    const labels = { cluster_id: short.id, cluster: short.name };
    expect(m.value('drs_cluster_score', labels)).toBeCloseTo((100 * 20) / 48, 9);
    expect(m.value('drs_contended_vms', labels)).toBe(12);
    expect(m.value('drs_cluster_demand_unmet', { ...labels, resource: 'cpu' })).toBe(28_000);
    expect(m.value('drs_cluster_demand_unmet', { ...labels, resource: 'memory' })).toBe(32_768);
    const vms = m.all('drs_vm_contention', labels);
    expect(vms).toHaveLength(10);
    for (const v of vms) {
      expect(v.labels).toMatchObject({ host_id: host.id, vm: expect.stringMatching(/^crowd-\d+$/), vm_id: expect.stringMatching(UUID) });
      expect(v.value).toBeCloseTo(28 / 48, 12);
    }
  });

  it('counts the samples accepted, and the utilization follows their demand', async () => {
    const before = (await scrape(t.http)).value('drs_samples_ingested_total') ?? 0;
    const now = Date.now();
    const sample = (agoMs: number) => ({
      vmId: vm3.id,
      timestamp: new Date(now - agoMs).toISOString(),
      cpuMhz: 2000,
      memoryActiveMib: 4096,
      memoryConsumedMib: 4096,
    });
    const res = await t.http
      .post('/api/v1/samples')
      .send({ samples: [sample(90_000), sample(60_000), sample(30_000)] })
      .expect(201);
    expect(res.body.accepted).toBe(3);
    // A refused batch writes nothing and counts nothing.
    await t.http
      .post('/api/v1/samples')
      .send({ samples: [sample(10_000), { ...sample(5_000), vmId: '00000000-0000-4000-8000-000000000000' }] })
      .expect(422);

    const m = await scrape(t.http);
    expect(m.value('drs_samples_ingested_total')).toBe(before + 3);
    // vm-3 now counts at its demand: 2,000 MHz and 4,096 MiB (active = consumed, no idle share).
    // a: cpu (4,000 + 4,000 + 2,000) / 20,000 = 0.5, memory (8,192 + 8,192 + 4,096) / 65,536 = 0.3125.
    const a = { cluster_id: cluster.id, host_id: hostA.id };
    expect(m.value('drs_host_utilization', { ...a, resource: 'cpu' })).toBeCloseTo(0.5, 12);
    expect(m.value('drs_host_utilization', { ...a, resource: 'memory' })).toBeCloseTo(0.3125, 12);
    // I = √(0.5 × 0.25² + 0.5 × 0.15625²) = √0.04345703125 ≈ 0.208463
    expect(m.value('drs_cluster_imbalance', { cluster_id: cluster.id })).toBeCloseTo(Math.sqrt(0.04345703125), 12);
  });

  it('times each pass of the cluster, and counts its recommendations and migrations by status', async () => {
    await t.http.put(`/api/v1/clusters/${cluster.id}/policy`).send({ automationLevel: 'manual' }).expect(200);
    const pass = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    const moves: number = pass.body.movesRecommended;
    expect(moves).toBeGreaterThan(0);
    expect(pass.body.movesApplied).toBe(0);

    let m = await scrape(t.http);
    const passOf = { cluster_id: cluster.id, trigger: 'manual' };
    expect(m.value('drs_pass_duration_seconds_count', passOf)).toBe(1);
    // The observed duration is the one on the pass record.
    expect(m.value('drs_pass_duration_seconds_sum', passOf)).toBeCloseTo((pass.body.finishedAt - pass.body.startedAt) / 1000, 9);
    expect(m.value('drs_pass_duration_seconds_bucket', { ...passOf, le: '+Inf' })).toBe(1);
    const of = { cluster_id: cluster.id };
    // Manual automation: every move waits as a pending recommendation; nothing migrates.
    expect(m.byLabel('drs_recommendations', of, 'status')).toEqual({ ...ZERO_RECOMMENDATIONS, pending: moves });
    expect(m.byLabel('drs_migrations', of, 'state')).toEqual(ZERO_MIGRATIONS);

    // Applying one recommendation starts one migration, which the simulated driver completes.
    const pending = await t.http.get('/api/v1/recommendations').query({ clusterId: cluster.id, status: 'pending' }).expect(200);
    const migrationId = (await t.http.post(`/api/v1/recommendations/${pending.body.items[0].id}/apply`).expect(200)).body.migrationId;
    await waitFor(async () => (await t.http.get(`/api/v1/migrations/${migrationId}`)).body.state === 'succeeded');
    m = await scrape(t.http);
    expect(m.byLabel('drs_recommendations', of, 'status')).toEqual({ ...ZERO_RECOMMENDATIONS, pending: moves - 1, applied: 1 });
    expect(m.byLabel('drs_migrations', of, 'state')).toEqual({ ...ZERO_MIGRATIONS, succeeded: 1 });
  });

  it('times HTTP requests by route pattern, method and status, never by raw path', async () => {
    const series = { method: 'GET', route: '/api/v1/clusters/:id' };
    const count = (m: Scrape, status: string) => m.value('drs_http_request_duration_seconds_count', { ...series, status }) ?? 0;
    const before = await scrape(t.http);
    for (let i = 0; i < 3; i++) await t.http.get(`/api/v1/clusters/${cluster.id}`).expect(200);
    await t.http.get('/api/v1/clusters/00000000-0000-4000-8000-000000000000').expect(404);

    const after = await scrape(t.http);
    expect(count(after, '200') - count(before, '200')).toBe(3);
    expect(count(after, '404') - count(before, '404')).toBe(1);
    expect(after.value('drs_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/samples', status: '201' })).toBe(1);
    expect(after.value('drs_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/samples', status: '422' })).toBe(1);
    // Earlier scrapes are timed too.
    expect(after.value('drs_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThan(0);
    const routes = new Set(after.all('drs_http_request_duration_seconds_count').map((s) => s.labels.route));
    expect([...routes].filter((r) => UUID.test(r))).toEqual([]);
  });

  it('drops the series of a cluster once it is deleted', async () => {
    const gone = await createCluster(t.http);
    const host = await createHost(t.http, gone.id, HOST);
    await t.http.post(`/api/v1/clusters/${gone.id}/passes`).expect(201);
    let m = await scrape(t.http);
    expect(m.value('drs_pass_duration_seconds_count', { cluster_id: gone.id, trigger: 'manual' })).toBe(1);
    expect(m.byLabel('drs_migrations', { cluster_id: gone.id }, 'state')).toEqual(ZERO_MIGRATIONS);

    // With no connected host, any imbalance is tolerated: the target is +Inf.
    await t.http.delete(`/api/v1/hosts/${host.id}`).expect(204);
    m = await scrape(t.http);
    expect(m.value('drs_cluster_imbalance_target', { cluster_id: gone.id })).toBe(Infinity);
    expect(m.value('drs_cluster_balanced', { cluster_id: gone.id })).toBe(1);

    await t.http.delete(`/api/v1/clusters/${gone.id}`).expect(204);
    m = await scrape(t.http);
    expect(m.series.filter((s) => s.labels.cluster_id === gone.id)).toEqual([]);
    // The known cluster is still there.
    expect(m.value('drs_pass_duration_seconds_count', { cluster_id: cluster.id, trigger: 'manual' })).toBe(1);
  });

  it('exports the Node.js process metrics with the drs_ prefix, and documents /metrics in OpenAPI', async () => {
    const m = await scrape(t.http);
    expect(m.value('drs_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.value('drs_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    const docs = await t.http.get('/docs-json').expect(200);
    expect(docs.body.paths['/metrics'].get.tags).toEqual(['telemetry']);
    expect(Object.keys(docs.body.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain; version=0.0.4; charset=utf-8']);
  });

  it('keeps a separate registry per app: a second app in the same process starts from zero', async () => {
    const other = await createTestApp({ env: ENV });
    try {
      const m = await scrape(other.http);
      expect(m.value('drs_samples_ingested_total')).toBe(0);
      expect(m.all('drs_cluster_imbalance')).toEqual([]);
      expect(m.all('drs_pass_duration_seconds_count')).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
