import { Database } from '../src/database/database.service';
import { selectRows } from '../src/database/dialect';
import { RetentionService } from '../src/samples/retention.service';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, FakeClock, TestApp } from './helpers/test-app';

const MINUTE = 60_000;

describe('utilization samples', () => {
  const clock = new FakeClock();
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ clock })));
  afterAll(() => t.close());

  async function world() {
    const cluster = await createCluster(t.http);
    // 8 cores × 2500 MHz, 64 GiB
    const host = await createHost(t.http, cluster.id, { cpuCores: 8, cpuMhz: 20_000, memoryMib: 65_536 });
    const vm = await createVm(t.http, cluster.id, host.id, { vcpus: 2, memoryMib: 8192 });
    return { cluster, host, vm };
  }

  const sample = (over: Record<string, unknown>) => ({
    timestamp: clock.now(),
    cpuMhz: 1000,
    memoryActiveMib: 1024,
    memoryConsumedMib: 4096,
    ...over,
  });

  it('ingests samples by VM id, by cluster and name, and for hosts, and serves them back', async () => {
    const { cluster, host, vm } = await world();
    const now = clock.now();
    const res = await t.http
      .post('/api/v1/samples')
      .send({
        samples: [
          sample({ vmId: vm.id, timestamp: now - 2 * MINUTE, cpuMhz: 500 }),
          sample({
            clusterId: cluster.id,
            vmName: vm.name,
            timestamp: new Date(now - MINUTE).toISOString(),
            cpuMhz: 1500,
            memoryDirtyMibPerSecond: 12,
            cpuReadyPercent: 3.5,
          }),
          sample({ hostId: host.id, cpuMhz: 9000 }),
        ],
      })
      .expect(201);
    expect(res.body).toEqual({ accepted: 3 });

    const history = await t.http.get(`/api/v1/vms/${vm.id}/samples`).expect(200);
    expect(history.body.points).toEqual([
      {
        timestamp: now - 2 * MINUTE,
        cpuMhz: 500,
        memoryActiveMib: 1024,
        memoryConsumedMib: 4096,
        memoryDirtyMibPerSecond: null,
        cpuReadyPercent: null,
        sampleCount: 1,
      },
      {
        timestamp: now - MINUTE,
        cpuMhz: 1500,
        memoryActiveMib: 1024,
        memoryConsumedMib: 4096,
        memoryDirtyMibPerSecond: 12,
        cpuReadyPercent: 3.5,
        sampleCount: 1,
      },
    ]);
    const hostHistory = await t.http.get(`/api/v1/hosts/${host.id}/samples`).expect(200);
    expect(hostHistory.body.points.map((p: { cpuMhz: number }) => p.cpuMhz)).toEqual([9000]);
  });

  it('estimates demand from the window, and host utilization from its VMs', async () => {
    const { host, vm } = await world();
    const now = clock.now();
    await t.http
      .post('/api/v1/samples')
      .send({
        samples: [
          sample({ vmId: vm.id, timestamp: now - 10 * MINUTE, cpuMhz: 4000 }), // outside a 5-minute window
          sample({ vmId: vm.id, timestamp: now - 2 * MINUTE, cpuMhz: 1000 }),
          sample({ vmId: vm.id, timestamp: now - 1 * MINUTE, cpuMhz: 3000, memoryActiveMib: 2048 }),
        ],
      })
      .expect(201);

    // mean CPU (1000 + 3000) / 2 = 2000; memory 1024 + 0.25 × 3072 = 1792 and 2048 + 0.25 × 2048 = 2560 → 2176
    const demand = await t.http.get(`/api/v1/vms/${vm.id}/demand`).expect(200);
    expect(demand.body).toMatchObject({
      cpuMhz: 2000,
      memoryMib: 2176,
      source: 'samples',
      sampleCount: 2,
      statistic: 'mean',
      windowSeconds: 300,
      swingWindowSeconds: 10_800,
    });
    // The swing is measured over the swing window (3 hours), which holds all three samples: 1000, 3000,
    // 4000 have mean 8000 / 3 and mean square 26e6 / 3, so variance 26e6 / 3 − 64e6 / 9 = 14e6 / 9.
    expect(demand.body.cpuSigmaMhz).toBeCloseTo(Math.sqrt(14e6 / 9), 6);
    // Over a 5-minute swing window, the window's two samples: 1000 and 3000 stray 1000 from 2000.
    const short = await t.http.get(`/api/v1/vms/${vm.id}/demand`).query({ swingWindowSeconds: 300 }).expect(200);
    expect(short.body).toMatchObject({ cpuMhz: 2000, sampleCount: 2, swingWindowSeconds: 300 });
    expect(short.body.cpuSigmaMhz).toBeCloseTo(1000, 6);

    const max = await t.http.get(`/api/v1/vms/${vm.id}/demand`).query({ statistic: 'max', windowSeconds: 900 }).expect(200);
    expect(max.body).toMatchObject({ cpuMhz: 4000, sampleCount: 3 });
    expect(max.body.cpuSigmaMhz).toBeCloseTo(Math.sqrt(14e6 / 9), 6);
    // p80 reads the samples themselves: the window's two for the statistic, the swing window's three for the swing.
    const p80 = await t.http.get(`/api/v1/vms/${vm.id}/demand`).query({ statistic: 'p80' }).expect(200);
    expect(p80.body).toMatchObject({ cpuMhz: 3000, sampleCount: 2 });
    expect(p80.body.cpuSigmaMhz).toBeCloseTo(Math.sqrt(14e6 / 9), 6);

    // a second VM without samples counts at its configured size: 2 vCPU × 2500 MHz, 8192 MiB
    await createVm(t.http, host.clusterId, host.id, { vcpus: 2, memoryMib: 8192 });
    const utilization = await t.http.get(`/api/v1/hosts/${host.id}/utilization`).expect(200);
    expect(utilization.body.cpu).toEqual({ demandMhz: 7000, capacityMhz: 20_000, utilization: 0.35 });
    expect(utilization.body.memory).toEqual({ demandMib: 2176 + 8192, capacityMib: 65_536, utilization: (2176 + 8192) / 65_536 });
    expect(utilization.body).toMatchObject({ poweredOnVms: 2, vmsWithoutSamples: 1 });
  });

  /**
   * Two hosts of 20,000 MHz and 50 VMs (a cluster-wide estimate, not a few VMs'), of which only x will have
   * samples; and the cluster's samplingNoise as its balance report gives it.
   */
  async function fiftyVms() {
    const cluster = await createCluster(t.http);
    const a = await createHost(t.http, cluster.id, { cpuCores: 8, cpuMhz: 20_000, memoryMib: 65_536 });
    const b = await createHost(t.http, cluster.id, { cpuCores: 8, cpuMhz: 20_000, memoryMib: 65_536 });
    const x = await createVm(t.http, cluster.id, a.id, { vcpus: 1, memoryMib: 512 });
    for (let i = 0; i < 49; i++) await createVm(t.http, cluster.id, i % 2 ? a.id : b.id, { vcpus: 1, memoryMib: 512 });
    const noise = async () => (await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200)).body.samplingNoise as number;
    return { x, noise };
  }

  it('reuses the swings of a cluster for a minute in cluster-wide estimates, and reads them again after', async () => {
    const { x, noise } = await fiftyVms();
    const now = clock.now();
    await t.http
      .post('/api/v1/samples')
      .send({
        samples: [sample({ vmId: x.id, timestamp: now - 2 * MINUTE }), sample({ vmId: x.id, timestamp: now - MINUTE, cpuMhz: 3000 })],
      })
      .expect(201);
    // x: 1000 and 3000 in the window (k = 2) and in the swing window, σ = 1000: s_a² = 1000² / 2 / 20,000² = 1.25e-3,
    // noise = sqrt(w_cpu · (1 − 1/2) · 1.25e-3 / 2) = sqrt(0.5 · 0.5 · 6.25e-4).
    expect(await noise()).toBeCloseTo(Math.sqrt(0.5 * 0.5 * 6.25e-4), 12);

    // A sample two hours old joins the swing window (not the window): σ over 1000, 3000, 4000 is sqrt(14e6 / 9).
    await t.http
      .post('/api/v1/samples')
      .send({ samples: [sample({ vmId: x.id, timestamp: now - 120 * MINUTE, cpuMhz: 4000 })] })
      .expect(201);
    const own = await t.http.get(`/api/v1/vms/${x.id}/demand`).expect(200);
    expect(own.body).toMatchObject({ cpuMhz: 2000, sampleCount: 2 });
    expect(own.body.cpuSigmaMhz).toBeCloseTo(Math.sqrt(14e6 / 9), 6);
    // The balance report, renewed by the new sample, reuses the swings read less than a minute ago.
    expect(await noise()).toBeCloseTo(Math.sqrt(0.5 * 0.5 * 6.25e-4), 12);
    // A minute later it reads them again: s_a² = (14e6 / 9) / 2 / 20,000².
    clock.advance(MINUTE);
    expect(await noise()).toBeCloseTo(Math.sqrt((0.5 * 0.5 * (14e6 / 9 / 2 / 4e8)) / 2), 12);
  });

  it('slides the swing window in cluster-wide estimates: a sample that left it stops counting', async () => {
    const { x, noise } = await fiftyVms();
    // As above, for x alone with k samples in the 5-minute window and σ over the 3-hour swing window:
    // noise = sqrt(0.5 · (1 − 1/2) · σ² / k / 20,000² / 2).
    const expected = (variance: number, k: number) => Math.sqrt((0.5 * 0.5 * (variance / k / 4e8)) / 2);
    const now = clock.now();
    await t.http
      .post('/api/v1/samples')
      .send({
        samples: [
          sample({ vmId: x.id, timestamp: now - 170 * MINUTE, cpuMhz: 5000 }),
          sample({ vmId: x.id, timestamp: now - MINUTE, cpuMhz: 1000 }),
          sample({ vmId: x.id, timestamp: now, cpuMhz: 3000 }),
        ],
      })
      .expect(201);
    // 5000, 1000 and 3000 around their mean of 3000: σ² = 8e6 / 3; the window holds the last two.
    expect(await noise()).toBeCloseTo(expected(8e6 / 3, 2), 12);

    // A quarter of an hour on, the 5000 is 185 minutes old: out of the swing window. Two new samples.
    clock.advance(15 * MINUTE);
    await t.http
      .post('/api/v1/samples')
      .send({
        samples: [
          sample({ vmId: x.id, timestamp: clock.now() - MINUTE, cpuMhz: 1000 }),
          sample({ vmId: x.id, timestamp: clock.now(), cpuMhz: 3000 }),
        ],
      })
      .expect(201);
    // 1000, 3000, 1000, 3000: σ = 1000.
    expect(await noise()).toBeCloseTo(expected(1e6, 2), 12);
    // The VM's own estimate reads its samples directly, and agrees.
    const own = await t.http.get(`/api/v1/vms/${x.id}/demand`).expect(200);
    expect(own.body.cpuSigmaMhz).toBeCloseTo(1000, 6);
  });

  it('falls back to the configured size when the VM has no recent samples', async () => {
    const { vm } = await world();
    const demand = await t.http.get(`/api/v1/vms/${vm.id}/demand`).expect(200);
    expect(demand.body).toMatchObject({ cpuMhz: 5000, memoryMib: 8192, source: 'configured', sampleCount: 0 });
    expect(demand.body).not.toHaveProperty('cpuSigmaMhz');

    // Samples older than the window but inside the swing window do not make a demand, whatever the statistic.
    await t.http
      .post('/api/v1/samples')
      .send({
        samples: [
          sample({ vmId: vm.id, timestamp: clock.now() - 20 * MINUTE, cpuMhz: 1000 }),
          sample({ vmId: vm.id, timestamp: clock.now() - 10 * MINUTE, cpuMhz: 3000 }),
        ],
      })
      .expect(201);
    for (const statistic of ['mean', 'max', 'p80']) {
      const old = await t.http.get(`/api/v1/vms/${vm.id}/demand`).query({ statistic }).expect(200);
      expect(old.body).toMatchObject({ cpuMhz: 5000, memoryMib: 8192, source: 'configured', sampleCount: 0 });
      expect(old.body).not.toHaveProperty('cpuSigmaMhz');
    }
  });

  describe('rejections write nothing', () => {
    async function expectNothingWritten(vmId: string) {
      const history = await t.http.get(`/api/v1/vms/${vmId}/samples`).expect(200);
      expect(history.body.points).toEqual([]);
    }

    it('an unknown VM among good samples: 422 naming the entry', async () => {
      const { vm } = await world();
      const res = await t.http
        .post('/api/v1/samples')
        .send({ samples: [sample({ vmId: vm.id }), sample({ vmId: '00000000-0000-4000-8000-000000000000' })] })
        .expect(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'samples.1.vmId' })]);
      await expectNothingWritten(vm.id);
    });

    it('an unknown VM name in the cluster: 422 naming the entry', async () => {
      const { cluster, vm } = await world();
      const res = await t.http
        .post('/api/v1/samples')
        .send({ samples: [sample({ vmId: vm.id }), sample({ clusterId: cluster.id, vmName: 'ghost' })] })
        .expect(422);
      expect(res.body.errors[0].field).toBe('samples.1.vmName');
      await expectNothingWritten(vm.id);
    });

    it('negative values: 400 naming each field', async () => {
      const { vm } = await world();
      const res = await t.http
        .post('/api/v1/samples')
        .send({ samples: [sample({ vmId: vm.id }), sample({ vmId: vm.id, cpuMhz: -1, memoryActiveMib: -5 })] })
        .expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['samples.1.cpuMhz', 'samples.1.memoryActiveMib']);
      await expectNothingWritten(vm.id);
    });

    it('a timestamp beyond the allowed clock skew: 422 saying by how much', async () => {
      const { vm } = await world();
      const res = await t.http
        .post('/api/v1/samples')
        .send({ samples: [sample({ vmId: vm.id }), sample({ vmId: vm.id, timestamp: clock.now() + 3_600_000 })] })
        .expect(422);
      expect(res.body.errors).toEqual([{ field: 'samples.1.timestamp', message: expect.stringContaining('3600 s in the future') }]);
      await expectNothingWritten(vm.id);
    });

    it('unknown fields, missing fields, two subjects, a bad date: 400 each', async () => {
      const { vm, host } = await world();
      const cases: [Record<string, unknown>, number, string][] = [
        [sample({ vmId: vm.id, cpu: 1 }), 400, 'samples.0.cpu'],
        [{ vmId: vm.id, timestamp: clock.now(), cpuMhz: 1, memoryActiveMib: 1 }, 400, 'samples.0.memoryConsumedMib'],
        [sample({ vmId: 'not-a-uuid' }), 400, 'samples.0.vmId'],
        [sample({ vmId: vm.id, timestamp: 'yesterday' }), 400, 'samples.0.timestamp'],
        [sample({ vmId: vm.id, timestamp: '2026-13-45T99:00:00Z' }), 422, 'samples.0.timestamp'],
        [sample({ vmId: vm.id, hostId: host.id }), 422, 'samples.0'],
      ];
      for (const [bad, status, field] of cases) {
        const res = await t.http.post('/api/v1/samples').send({ samples: [bad] });
        expect({ status: res.status, fields: res.body.errors?.map((e: { field: string }) => e.field) }).toEqual({
          status,
          fields: expect.arrayContaining([field]),
        });
      }
      await expectNothingWritten(vm.id);
    });

    it('more than 50,000 samples, or none: 400', async () => {
      const { vm } = await world();
      const many = Array.from({ length: 50_001 }, (_, i) => sample({ vmId: vm.id, timestamp: clock.now() - i }));
      const res = await t.http.post('/api/v1/samples').send({ samples: many }).expect(400);
      expect(res.body.errors[0].field).toBe('samples');
      await t.http.post('/api/v1/samples').send({ samples: [] }).expect(400);
      await expectNothingWritten(vm.id);
    });
  });

  it('downsamples history into steps, weighting each bucket by its samples', async () => {
    const { vm } = await world();
    const start = Math.floor(clock.now() / 600_000) * 600_000 - 600_000;
    // one sample a minute for 10 minutes: cpu 100, 200, ... 1000
    const samples = Array.from({ length: 10 }, (_, i) => sample({ vmId: vm.id, timestamp: start + i * MINUTE, cpuMhz: 100 * (i + 1) }));
    await t.http.post('/api/v1/samples').send({ samples }).expect(201);
    const res = await t.http
      .get(`/api/v1/vms/${vm.id}/samples`)
      .query({ from: new Date(start).toISOString(), to: start + 10 * MINUTE, step: 300 })
      .expect(200);
    // (100+…+500)/5 = 300 and (600+…+1000)/5 = 800
    expect(
      res.body.points.map((p: { timestamp: number; cpuMhz: number; sampleCount: number }) => [p.timestamp, p.cpuMhz, p.sampleCount]),
    ).toEqual([
      [start, 300, 5],
      [start + 300_000, 800, 5],
    ]);
    await t.http.get(`/api/v1/vms/${vm.id}/samples`).query({ step: 0 }).expect(400);
    await t.http.get(`/api/v1/vms/${vm.id}/samples`).query({ from: 'last tuesday' }).expect(400);
  });

  it('rolls raw samples older than the retention into 5-minute averages, and prunes old roll-ups', async () => {
    const { vm } = await world();
    const retention = t.app.get(RetentionService);
    const start = Math.floor(clock.now() / 300_000) * 300_000 - 5 * 3_600_000;
    // five hours, one sample a minute, cpu = minute index, CPU ready 0, 1, 2, 3, 4 % in each 5 minutes
    const samples = Array.from({ length: 300 }, (_, i) =>
      sample({ vmId: vm.id, timestamp: start + i * MINUTE, cpuMhz: i, cpuReadyPercent: i % 5 }),
    );
    await t.http.post('/api/v1/samples').send({ samples }).expect(201);

    await retention.runOnce();
    const raw = await selectRows<{ n: number }>(t.app.get(Database).reader, 'SELECT COUNT(*) AS n FROM samples WHERE "subjectId" = ?', [
      vm.id,
    ]);
    // raw retention is three hours: what is older than the 5-minute boundary three hours ago is rolled up
    expect(raw[0].n).toBeLessThanOrEqual(185);
    expect(raw[0].n).toBeGreaterThanOrEqual(180);

    const history = await t.http
      .get(`/api/v1/vms/${vm.id}/samples`)
      .query({ from: start, to: start + 5 * 3_600_000, step: 300 })
      .expect(200);
    expect(history.body.points).toHaveLength(60);
    // bucket k holds minutes 5k … 5k+4: mean 5k + 2; the totals survive the roll-up
    history.body.points.forEach((p: { timestamp: number; cpuMhz: number; sampleCount: number }, k: number) => {
      expect(p).toMatchObject({ timestamp: start + k * 300_000, cpuMhz: 5 * k + 2, cpuReadyPercent: 2, sampleCount: 5 });
    });

    // running again changes nothing; eight days later everything is gone
    await retention.runOnce();
    const again = await t.http
      .get(`/api/v1/vms/${vm.id}/samples`)
      .query({ from: start, to: start + 5 * 3_600_000, step: 300 })
      .expect(200);
    expect(again.body.points).toEqual(history.body.points);
    clock.advance(8 * 86_400_000);
    await retention.runOnce();
    const later = await t.http.get(`/api/v1/vms/${vm.id}/samples`).query({ from: start, to: clock.now(), step: 3600 }).expect(200);
    expect(later.body.points).toEqual([]);
  });
});
