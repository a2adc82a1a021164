/**
 * It asserts speeds (an answer and a start within 1 s while 300 what-ifs are planned): it has the machine to
 * itself (test/helpers/machine-lock-environment.js).
 *
 * @machine exclusive
 */
// The planner queue under a flood of what-if plans: evacuations and passes go first, what-ifs wait in
// a bounded queue with a time budget. The real app runs in a child process, as it would be deployed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildApp, killApp, startApp } from './helpers/child-app';
import { generateInventory } from './helpers/inventory-generator';
import { makeTempDir, removeTempDir } from './helpers/test-app';
import { waitFor } from './helpers/wait';

const ROOT = join(__dirname, '..');
const REGISTER = join(__dirname, 'helpers', 'ts-cached-register.js');

/** The heaviest what-if a viewer may ask: most aggressive threshold, no move or cost limit. */
const HEAVY_WHAT_IF = { migrationThreshold: 5, maxMovesPerPass: 10_000, maxMovesPerHost: 10_000, costWeight: 0, minGain: 0 };

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read as supertest reads one (see eslint.config.mjs)
  body: any;
  /** Milliseconds from sending to the whole answer. */
  ms: number;
}

/** A token made the way an operator makes the first ones: the CLI, on the database file. */
async function tokenFromCli(databasePath: string, role: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', REGISTER, 'src/auth/token-cli.ts', 'create', '--role', role], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_PATH: databasePath },
  });
  return stdout.trim();
}

async function send(app: ChildApp, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(app.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, ms: Date.now() - started };
}

describe('the planner queue (32 hosts, 1,000 VMs, tokens on)', () => {
  let dir: string;
  let databasePath: string;
  let viewer: string;
  let operator: string;
  let app: ChildApp | undefined;
  let clusterId: string;
  let hostIds: string[];

  const start = async (env: Record<string, unknown> = {}) => {
    app = await startApp({ DATABASE_PATH: databasePath, DEMO_ENABLED: false, RATE_LIMIT_MAX: 0, ...env });
    // Each token's first use costs a hash; a client that has used its token before does not pay it again.
    for (const token of [viewer, operator]) expect((await send(app, token, 'GET', '/api/v1/clusters')).status).toBe(200);
    return app;
  };

  beforeAll(async () => {
    dir = makeTempDir();
    databasePath = join(dir, 'drs.sqlite');
    viewer = await tokenFromCli(databasePath, 'viewer');
    operator = await tokenFromCli(databasePath, 'operator');
    const a = await start();
    const cluster = await send(a, operator, 'POST', '/api/v1/clusters', { name: 'planner-queue' });
    expect(cluster.status).toBe(201);
    clusterId = cluster.body.id;
    expect((await send(a, operator, 'PUT', `/api/v1/clusters/${clusterId}/inventory`, generateInventory(32, 1000))).status).toBe(200);
    const hosts = await send(a, viewer, 'GET', `/api/v1/hosts?clusterId=${clusterId}&limit=100`);
    hostIds = hosts.body.items.map((h: { id: string }) => h.id);
    expect(hostIds).toHaveLength(32);
  }, 120_000);

  afterAll(async () => {
    if (app) await killApp(app);
    removeTempDir(dir);
  });

  it('answers an evacuation and starts its first migration within 1 s while 300 heavy what-ifs are asked', async () => {
    const a = app!;
    // A what-if is heavy: it plans many moves (the cluster is far from balanced by configured size).
    const one = await send(a, viewer, 'POST', `/api/v1/clusters/${clusterId}/plan`, HEAVY_WHAT_IF);
    expect(one.status).toBe(200);
    expect(one.body.moves.length).toBeGreaterThan(20);
    // A running service has passed over its clusters before (every 5 minutes by default); this one too.
    expect((await send(a, operator, 'POST', `/api/v1/clusters/${clusterId}/passes`)).status).toBe(201);

    let firstAnswered: () => void;
    const planning = new Promise<void>((resolve) => (firstAnswered = resolve));
    const flood = Array.from({ length: 300 }, () =>
      send(a, viewer, 'POST', `/api/v1/clusters/${clusterId}/plan`, HEAVY_WHAT_IF).then(
        (answer) => {
          if (answer.status === 200) firstAnswered();
          return answer;
        },
        (error: Error) => ({ status: 0, body: error.message }) as Answer,
      ),
    );
    // The planner is busy with the flood once it has answered one of it.
    await planning;

    const host = hostIds[7];
    const requestedAt = Date.now();
    const evacuation = await send(a, operator, 'POST', `/api/v1/hosts/${host}/maintenance`);
    expect(evacuation.status).toBe(202);
    expect(evacuation.body.state).toBe('entering-maintenance');
    expect(evacuation.ms).toBeLessThan(1000);

    const started = await waitFor(
      async () => {
        const page = await send(a, viewer, 'GET', `/api/v1/migrations?hostId=${host}&limit=100`);
        const times = page.body.items
          .filter((m: { startedAt: string | null }) => m.startedAt)
          .map((m: { startedAt: string }) => Date.parse(m.startedAt));
        return times.length > 0 ? Math.min(...times) : 0;
      },
      30_000,
      20,
    );
    expect(started - requestedAt).toBeLessThan(1000);

    const answers = await Promise.all(flood);
    // Every what-if is either planned or refused as busy, never failed.
    expect(answers.filter((r) => r.status !== 200 && r.status !== 503).map((r) => r.body)).toEqual([]);
  }, 180_000);

  it('refuses what-ifs beyond the queue with a 503 problem that says when to retry', async () => {
    const a = app!;
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => send(a, viewer, 'POST', `/api/v1/clusters/${clusterId}/plan`, HEAVY_WHAT_IF)),
    );
    const refused = answers.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.detail).toMatch(/planner is busy: \d+ what-if plans are already waiting/);
    }
    // The ones let in were planned.
    const planned = answers.filter((r) => r.status === 200);
    expect(planned.length).toBeGreaterThan(0);
    for (const r of planned) expect(r.body.moves.length).toBeGreaterThan(0);
    expect(planned.length + refused.length).toBe(100);
  }, 120_000);

  it('stops a what-if over its time budget with a 503 problem, and still runs passes', async () => {
    await killApp(app!);
    const a = await start({ PLAN_WHATIF_TIMEOUT_SECONDS: 0.001 });
    const over = await send(a, viewer, 'POST', `/api/v1/clusters/${clusterId}/plan`, HEAVY_WHAT_IF);
    expect(over.status).toBe(503);
    expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(over.body).toMatchObject({ status: 503, budgetSeconds: 0.001 });
    expect(over.body.detail).toMatch(/took longer than its 0\.001 s budget and was stopped/);

    // Passes have their own budget and thread.
    const pass = await send(a, operator, 'POST', `/api/v1/clusters/${clusterId}/passes`);
    expect(pass.status).toBe(201);
    expect(pass.body.status).toBe('completed');
  }, 120_000);
});
