// The dashboard in a real browser: Debian's chromium driven by playwright-core against the real app on
// a loopback port. Seeds a lopsided manual cluster, applies a recommendation from the page and watches
// its migration run and finish; shows the cluster score, the "balanced within sampling noise" badge, and a
// cluster's connector degrading (a libvirt URI nothing answers, so no libvirt host is needed). Saves
// screenshots to test-results/dashboard.png, dashboard-contention.png, dashboard-noise.png and
// dashboard-connector.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { TokensService } from '../src/auth/tokens.service';
import { LOCAL_ACTOR } from '../src/events/actor';
import TestAgent from 'supertest/lib/agent';
import { createTestApp, TestApp } from './helpers/test-app';
import { createTokenWithCli, untilTokensRequired } from './helpers/tokens';
import { waitFor } from './helpers/wait';

/** Where a token's secret starts: after `drs_<16 hex>_` (the secret itself may hold `_`). */
const SECRET_AT = 'drs_0123456789abcdef_'.length;

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT_DIR = join(__dirname, '..', 'test-results');
/** 8 GiB at 10 Gbit/s is ~6.9 s of simulated pre-copy: ~3.4 s of wall time, long enough to watch progress. */
const MIGRATION_TIME_SCALE = 2;
const VM_MEMORY_MIB = 8192;
const HOST = { cpuCores: 16, cpuMhz: 32_000, memoryMib: 65_536, migrationGbps: 10 };
const HOST_NAMES = ['esx-01', 'esx-02', 'esx-03', 'esx-04'];
/** Nothing listens on port 1: the connector's first sync fails at once and it degrades. */
const UNREACHABLE_URI = 'qemu+tcp://127.0.0.1:1/system';
/** A host name is free text that comes back inside the platform's error: the page must show it as text. */
const HOSTILE_HOST = 'kvm-<img src=x onerror="window.__injected=1">';

interface Seeded {
  clusterId: string;
  hosts: { id: string; name: string }[];
}

/** Every VM on esx-01, esx-02 and esx-03 empty, esx-04 in maintenance; a manual pass leaves recommendations pending. */
async function seedLopsidedCluster(http: TestAgent): Promise<Seeded> {
  const cluster = (await http.post('/api/v1/clusters').send({ name: 'prod-east', description: 'dashboard e2e' }).expect(201)).body;
  await http.put(`/api/v1/clusters/${cluster.id}/policy`).send({ automationLevel: 'manual' }).expect(200);
  const hosts = [];
  for (const name of HOST_NAMES)
    hosts.push(
      (
        await http
          .post('/api/v1/hosts')
          .send({ clusterId: cluster.id, name, ...HOST })
          .expect(201)
      ).body,
    );
  for (let i = 1; i <= 6; i++) {
    await http
      .post('/api/v1/vms')
      .send({ clusterId: cluster.id, hostId: hosts[0].id, name: `web-0${i}`, vcpus: 2, memoryMib: VM_MEMORY_MIB })
      .expect(201);
  }
  await http.post(`/api/v1/hosts/${hosts[3].id}/maintenance`).expect(202);
  const pass = await http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
  expect(pass.body.movesRecommended).toBeGreaterThan(0);
  return { clusterId: cluster.id, hosts };
}

describe('dashboard', () => {
  let t: TestApp;
  let baseUrl: string;

  // Compiling the app's modules can take more than jest's 5 s default on a busy machine.
  beforeAll(async () => {
    t = await createTestApp({ env: { MIGRATION_TIME_SCALE, CONNECTOR_SYNC_INTERVAL_SECONDS: 1, CONNECTOR_COLLECT_INTERVAL_SECONDS: 1 } });
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  }, 30_000);
  afterAll(() => t.close());

  it('serves the page at / and leaves the API, docs and health to their own handlers', async () => {
    const page = await t.http.get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('<script type="module" src="app.js">');
    expect(page.text).not.toMatch(/https?:\/\//); // nothing from a CDN
    await t.http
      .get('/app.js')
      .expect(200)
      .expect('Content-Type', /javascript/);

    const unknown = await t.http.get('/api/v1/no-such-thing').expect(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(unknown.body).toMatchObject({ status: 404, title: 'Not Found' });
    const badJson = await t.http.post('/api/v1/clusters').set('Content-Type', 'application/json').send('{"name":').expect(400);
    expect(badJson.headers['content-type']).toMatch(/application\/problem\+json/);
    await t.http.get('/docs-json').expect(200).expect('Content-Type', /json/);
    await t.http.get('/health').expect(200);
    await t.http.get('/api/v1/clusters').expect(200).expect('Content-Type', /json/);
  });

  describe('in a browser', () => {
    let context: BrowserContext;
    let page: Page;
    let userDataDir: string;
    const offsite: string[] = [];
    const pageErrors: string[] = [];

    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's browser with apt-get install -y chromium`);
      userDataDir = mkdtempSync(join(tmpdir(), 'drs-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1360, height: 1000 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('request', (request) => {
        if (!request.url().startsWith(baseUrl)) offsite.push(request.url());
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }, 60_000);

    afterAll(async () => {
      await context?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    it('shows every host, applies a recommendation, follows its migration to the end, and switches cluster', async () => {
      const seeded = await seedLopsidedCluster(t.http);
      const pending = (await t.http.get('/api/v1/recommendations').query({ clusterId: seeded.clusterId, status: 'pending' }).expect(200))
        .body;
      const rec = pending.items[0];
      const from = seeded.hosts.find((h) => h.id === rec.fromHostId)!.name;
      const to = seeded.hosts.find((h) => h.id === rec.toHostId)!.name;

      await page.goto(`${baseUrl}/#cluster=${seeded.clusterId}`);

      // every host, with its CPU and memory bars; the one in maintenance is marked
      for (const name of HOST_NAMES) {
        await page.locator('#hosts .host-name', { hasText: new RegExp(`^${name}$`) }).waitFor();
        await page.getByRole('meter', { name: `${name} CPU` }).waitFor();
        await page.getByRole('meter', { name: `${name} memory` }).waitFor();
      }
      expect(await page.locator('#cluster').inputValue()).toBe(seeded.clusterId);
      await page.locator('#hosts li', { hasText: 'esx-04' }).locator('.host-state', { hasText: 'maintenance' }).waitFor();
      await page.locator('#balanced', { hasText: 'Unbalanced' }).waitFor();
      // lopsided, yet esx-01 serves all its VMs ask for (24,000 of 32,000 MHz)
      await page.locator('#score', { hasText: /^100$/ }).waitFor();
      expect(await page.locator('#contended').textContent()).toBe('0 of 6');
      expect(await page.locator('#hosts .host-contended:visible').count()).toBe(0);
      await page.locator('#chart svg circle.pass-dot').first().waitFor();
      expect(await page.locator('#recs li').count()).toBe(pending.total);

      await page.getByRole('button', { name: `Apply: move ${rec.vmName} from ${from} → ${to}` }).click();

      // the migration shows up with a progress bar, then finishes
      const progress = page.getByRole('progressbar', { name: `Migration of ${rec.vmName}` });
      await progress.waitFor({ timeout: 10_000 });
      const percentShown = async () => Number((await progress.getAttribute('aria-valuenow', { timeout: 500 }).catch(() => null)) ?? 0);
      await waitFor(async () => (await percentShown()) > 0, 10_000);
      await page.locator('#done li', { hasText: rec.vmName }).locator('.mig-state', { hasText: 'succeeded' }).waitFor({ timeout: 20_000 });
      await progress.waitFor({ state: 'detached', timeout: 5_000 });
      const vm = (await t.http.get(`/api/v1/vms/${rec.vmId}`).expect(200)).body;
      expect(vm.hostId).toBe(rec.toHostId);

      // the applied recommendation left the pending list; the events feed tells what happened
      await page.getByRole('button', { name: new RegExp(`^Apply: move ${rec.vmName} `) }).waitFor({ state: 'detached' });
      await page.locator('#events li', { hasText: 'recommendation.applied' }).first().waitFor();
      // applied from this page with access control off: the local user's doing
      await page
        .locator('#events li', { hasText: 'recommendation.applied' })
        .first()
        .locator('.event-actor', { hasText: 'by local user' })
        .waitFor();
      await page.locator('#chart svg rect.mig-mark.succeeded').first().waitFor();

      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });

      // another cluster, picked in the list, replaces the view and is remembered in the URL
      const staging = (await t.http.post('/api/v1/clusters').send({ name: 'staging' }).expect(201)).body;
      await t.http
        .post('/api/v1/hosts')
        .send({ clusterId: staging.id, name: 'stg-kvm-01', ...HOST })
        .expect(201);
      await page.reload();
      await page.locator('#cluster').selectOption({ label: 'staging' });
      await page.locator('#hosts .host-name', { hasText: 'stg-kvm-01' }).waitFor();
      expect(await page.locator('#hosts .host-name', { hasText: 'esx-01' }).count()).toBe(0);
      expect(new URL(page.url()).hash).toBe(`#cluster=${staging.id}`);

      expect(offsite).toEqual([]);
      expect(pageErrors).toEqual([]);
    }, 90_000);

    it('shows the cluster score and the VMs short of CPU on an overcommitted host', async () => {
      const crowded = (await t.http.post('/api/v1/clusters').send({ name: 'crowded' }).expect(201)).body;
      const hosts = [];
      for (const name of ['busy-01', 'idle-01'])
        hosts.push(
          (
            await t.http
              .post('/api/v1/hosts')
              .send({ clusterId: crowded.id, name, ...HOST })
              .expect(201)
          ).body,
        );
      // 10 VMs of 4 vCPU at their configured size, 8,000 MHz each: 80,000 on 32,000 MHz, each VM served 0.4 of its demand.
      for (let i = 1; i <= 10; i++) {
        await t.http
          .post('/api/v1/vms')
          .send({ clusterId: crowded.id, hostId: hosts[0].id, name: `crowd-${i}`, vcpus: 4, memoryMib: 4096 })
          .expect(201);
      }
      await page.goto('about:blank');
      await page.goto(`${baseUrl}/#cluster=${crowded.id}`);
      await page.locator('#score', { hasText: /^40\.0$/ }).waitFor();
      expect(await page.locator('#contended').textContent()).toBe('10 of 10');
      expect(await page.locator('#contended').evaluate((n) => n.classList.contains('short'))).toBe(true);
      await page.locator('#hosts li', { hasText: 'busy-01' }).locator('.host-contended', { hasText: '10 VMs short' }).waitFor();
      expect(await page.locator('#hosts li', { hasText: 'idle-01' }).locator('.host-contended').isHidden()).toBe(true);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-contention.png') });
      expect(pageErrors).toEqual([]);
    }, 60_000);

    it('says "balanced within sampling noise" where the excess over the target is the demand estimates\' noise, and "unbalanced" where it is not', async () => {
      // 16 hosts of 32,000 MHz, CPU only. Eight carry VMs of 9,600 + 6,400 + 1,920 MHz (0.56 of the host),
      // eight 9,600 + 4,480 (0.44): σ_cpu = I = 0.06 against a target of (5 − 3) / (10·√16) = 0.05, gap 0.12
      // (limit 0.2). Every VM reports four samples in the demand window (5 minutes). In "steady" they are
      // all alike. In "noisy" the 9,600 MHz VM of each host alternates 7,040 and 12,160 MHz: the same mean,
      // σ = 2,560 MHz, so each host's estimate is off by σ²/4 = (2,560 / 32,000)² / 4 = 0.0016 of its
      // capacity², the measured variance exceeds the true one by (1 − 1/16)·0.0016 = 0.0015, and
      // √(0.06² − 0.0015) ≈ 0.0458 is within the target: balanced, with √0.0015 ≈ 0.039 of noise.
      const seed = async (name: string, swing: number) => {
        const cluster = (await t.http.post('/api/v1/clusters').send({ name }).expect(201)).body;
        await t.http
          .put(`/api/v1/clusters/${cluster.id}/policy`)
          .send({ automationLevel: 'manual', cpuWeight: 1, memoryWeight: 0 })
          .expect(200);
        const now = Date.now();
        const samples = [];
        for (let i = 0; i < 16; i++) {
          const host = (
            await t.http
              .post('/api/v1/hosts')
              .send({ clusterId: cluster.id, name: `${name}-${String(i + 1).padStart(2, '0')}`, ...HOST })
              .expect(201)
          ).body;
          const demands = i < 8 ? [9_600, 6_400, 1_920] : [9_600, 4_480];
          for (const [j, mhz] of demands.entries()) {
            const vm = (
              await t.http
                .post('/api/v1/vms')
                .send({ clusterId: cluster.id, hostId: host.id, name: `${host.name}-vm${j + 1}`, vcpus: 8, memoryMib: 4096 })
                .expect(201)
            ).body;
            for (let k = 0; k < 4; k++) {
              const cpuMhz = j === 0 ? mhz + (k % 2 === 0 ? -swing : swing) : mhz;
              samples.push({ vmId: vm.id, timestamp: now - (4 - k) * 15_000, cpuMhz, memoryActiveMib: 1024, memoryConsumedMib: 4096 });
            }
          }
        }
        await t.http.post('/api/v1/samples').send({ samples }).expect(201);
        return cluster;
      };
      const steady = await seed('steady', 0);
      const noisy = await seed('noisy', 2_560);

      const report = (await t.http.get(`/api/v1/clusters/${noisy.id}/balance`).expect(200)).body;
      expect(report.imbalance).toBeCloseTo(0.06, 9);
      expect(report.target).toBeCloseTo(0.05, 9);
      expect(report.samplingNoise).toBeCloseTo(Math.sqrt(0.0015), 9);
      expect(report).toMatchObject({ balanced: true, balancedWithinNoise: true });

      await page.goto('about:blank');
      await page.goto(`${baseUrl}/#cluster=${noisy.id}`);
      const badge = page.locator('#balanced');
      await page.locator('#balanced', { hasText: 'Balanced within sampling noise' }).waitFor();
      expect(await page.locator('#imbalance').textContent()).toBe('0.060');
      expect(await page.locator('#target').textContent()).toBe('0.050');
      expect(await badge.getAttribute('title')).toBe('0.039 of the imbalance is sampling noise of the demand estimates');
      expect(await badge.evaluate((n) => n.classList.contains('ok'))).toBe(true);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-noise.png') });

      await page.goto('about:blank');
      await page.goto(`${baseUrl}/#cluster=${steady.id}`);
      await page.locator('#balanced', { hasText: /^Unbalanced$/ }).waitFor();
      expect(await page.locator('#imbalance').textContent()).toBe('0.060');
      expect(await badge.getAttribute('title')).toBe('');
      expect(await badge.evaluate((n) => n.classList.contains('warn'))).toBe(true);
      expect(pageErrors).toEqual([]);
    }, 60_000);

    it("shows each cluster's connector: degraded with the host in trouble and its last sync, or a manual inventory", async () => {
      const lab = (await t.http.post('/api/v1/clusters').send({ name: 'kvm-lab' }).expect(201)).body;
      const staging = (await t.http.get('/api/v1/clusters').expect(200)).body.items.find((c: { name: string }) => c.name === 'staging');
      // Through a blank page: a new hash alone is no new page load, and the open page's list of clusters does not know kvm-lab yet.
      await page.goto('about:blank');
      await page.goto(`${baseUrl}/#cluster=${lab.id}`);
      await page.locator('#connector-kind', { hasText: 'Manual inventory' }).waitFor();
      expect(await page.locator('#cluster').inputValue()).toBe(lab.id);
      expect(await page.locator('#connector-state').isHidden()).toBe(true);

      // configured while the page is open: the next refresh shows it, with no reload
      const configuredAt = Date.now();
      await t.http
        .put(`/api/v1/clusters/${lab.id}/connector`)
        .send({ kind: 'libvirt', settings: { hosts: [{ name: HOSTILE_HOST, uri: UNREACHABLE_URI }] } })
        .expect(200);
      await page.locator('#connector-state', { hasText: 'degraded' }).waitFor({ timeout: 20_000 });
      expect(await page.locator('#connector-kind').textContent()).toBe('libvirt connector');
      const banner = page.locator('#connector-error');
      await banner.waitFor();
      const reason = (await banner.locator('#connector-error-text').textContent()) ?? '';
      expect(reason.slice(0, HOSTILE_HOST.length + 2)).toBe(`${HOSTILE_HOST}: `);
      expect(reason.length).toBeGreaterThan(HOSTILE_HOST.length + 2);
      expect(await banner.locator('img').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __injected?: number }).__injected)).toBeUndefined();

      // the last sync, relative, with the exact time in its title
      const synced = page.locator('#connector-sync-time');
      const iso = (await waitFor(() => synced.getAttribute('title'), 10_000)) as string;
      expect(await synced.getAttribute('datetime')).toBe(iso);
      expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(iso)).toBeGreaterThanOrEqual(configuredAt);
      expect(Date.parse(iso)).toBeLessThanOrEqual(Date.now());
      expect(await synced.textContent()).toMatch(/^\d+ s ago$/);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard-connector.png') });

      // a cluster without a connector: manual inventory, and the other cluster's warning is gone
      await page.locator('#cluster').selectOption({ label: 'staging' });
      expect(new URL(page.url()).hash).toBe(`#cluster=${staging.id}`);
      await page.locator('#hosts .host-name', { hasText: 'stg-kvm-01' }).waitFor();
      await page.locator('#connector-kind', { hasText: 'Manual inventory' }).waitFor();
      expect(await page.locator('#connector-state').isHidden()).toBe(true);
      expect(await page.locator('#connector-sync').isHidden()).toBe(true);
      expect(await banner.isHidden()).toBe(true);
      // its 404 is no failure of the page
      expect(await page.locator('#alert').isHidden()).toBe(true);
      expect(pageErrors).toEqual([]);
    }, 60_000);

    // Last: it turns access control on for this app.
    it('asks for an API token once the service requires one, and refuses a wrong one', async () => {
      const viewer = await createTokenWithCli(t.databasePath, 'viewer', 'dashboard');
      await untilTokensRequired(t.http);
      await page.reload();
      const form = page.locator('#token-form');
      await form.waitFor({ state: 'visible' });
      expect(await page.locator('#content').isHidden()).toBe(true);

      await page.getByLabel('Token').fill(`${viewer.slice(0, -1)}${viewer.endsWith('A') ? 'B' : 'A'}`);
      await page.getByRole('button', { name: 'Use this token' }).click();
      await page.locator('#token-error', { hasText: 'The token was refused' }).waitFor();

      await page.getByLabel('Token').fill(viewer);
      await page.getByRole('button', { name: 'Use this token' }).click();
      await form.waitFor({ state: 'hidden' });
      await page.locator('#hosts .host-name', { hasText: 'stg-kvm-01' }).waitFor();
      expect(await page.locator('#alert').isHidden()).toBe(true);
      // the token stays in this tab's session, never in the address
      expect(page.url()).not.toContain(viewer.slice(SECRET_AT));
      await page.reload();
      await page.locator('#hosts .host-name', { hasText: 'stg-kvm-01' }).waitFor();
      expect(await form.isHidden()).toBe(true);

      // a change made with another token shows in the feed with that token's name and role
      const ops = await t.app.get(TokensService).create('operator', 'ops pipeline', LOCAL_ACTOR);
      const stagingId = await page.locator('#cluster').inputValue();
      await t.http
        .put(`/api/v1/clusters/${stagingId}/policy`)
        .set('Authorization', `Bearer ${ops.token}`)
        .send({ migrationThreshold: 4 })
        .expect(200);
      await page
        .locator('#events li', { hasText: 'policy.changed' })
        .locator('.event-actor', { hasText: 'by ops pipeline (operator)' })
        .waitFor({ timeout: 10_000 });

      // a viewer reads connectors too
      await page.locator('#connector-kind', { hasText: 'Manual inventory' }).waitFor();
      await page.locator('#cluster').selectOption({ label: 'kvm-lab' });
      await page.locator('#connector-state', { hasText: 'degraded' }).waitFor({ timeout: 10_000 });
      await page.locator('#connector-error-text', { hasText: HOSTILE_HOST }).waitFor();
      expect(await page.locator('#alert').isHidden()).toBe(true);
      expect(pageErrors).toEqual([]);
    }, 60_000);
  });
});
