// Hardening: where the service listens without tokens, tokens never in logs, rate limits, security
// headers, CORS, and degraded operation (503 with Retry-After) while the database is locked.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { writeLocker, WriteLocker } from './helpers/db-watch';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { databaseEnvSync } from './helpers/test-database';

/** Where a token's secret starts: after `drs_<16 hex>_` (the secret itself may hold `_`). */
const SECRET_AT = 'drs_0123456789abcdef_'.length;

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** `src/main.ts` as `npm start` runs it, with its output kept. */
function startMain(env: Record<string, string>): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DEMO_ENABLED: 'false',
      SCHEDULER_ENABLED: 'false',
      ...(env.DATABASE_PATH ? databaseEnvSync(env.DATABASE_PATH) : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (c) => (output += c));
  proc.stderr.on('data', (c) => (output += c));
  return { proc, output: () => output };
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function createTokenWithCli(databasePath: string, role: string): string {
  const res = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'src/auth/token-cli.ts', 'create', '--role', role, '--name', 'cli'],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_PATH: databasePath, ...databaseEnvSync(databasePath) },
      encoding: 'utf8',
    },
  );
  expect(res.status).toBe(0);
  expect(res.stderr).toMatch(/shown this once/);
  return res.stdout.trim();
}

describe('listening address and logs', () => {
  let dir: string;
  beforeAll(() => (dir = makeTempDir()));
  afterAll(() => removeTempDir(dir));

  it('refuses to listen beyond loopback without a token, and says why', async () => {
    const main = startMain({ HOST: '0.0.0.0', PORT: String(await freePort()), DATABASE_PATH: join(dir, 'open.sqlite') });
    const [code] = await once(main.proc, 'exit');
    expect(code).toBe(1);
    expect(main.output()).toMatch(/HOST=0\.0\.0\.0 would expose the API .* create an API token first/);
  });

  it('serves on loopback without tokens and says that access control is off', async () => {
    const port = await freePort();
    const main = startMain({ HOST: '127.0.0.1', PORT: String(port), DATABASE_PATH: join(dir, 'loopback.sqlite') });
    try {
      await until(() => /Listening on/.test(main.output()), 'the service to listen');
      expect(main.output()).toMatch(/access control is off and the service listens on loopback only/);
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/clusters`)).status).toBe(200);
    } finally {
      main.proc.kill('SIGKILL');
    }
  });

  it('with a token made by the CLI, listens on any address, requires tokens, and never logs one', async () => {
    const databasePath = join(dir, 'tokens.sqlite');
    const admin = createTokenWithCli(databasePath, 'admin');
    expect(admin).toMatch(/^drs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const port = await freePort();
    const main = startMain({ HOST: '0.0.0.0', PORT: String(port), DATABASE_PATH: databasePath, LOG_LEVEL: 'trace' });
    try {
      await until(() => /Listening on/.test(main.output()), 'the service to listen');
      expect(main.output()).toMatch(/Access control on: 1 active API token/);
      const url = `http://127.0.0.1:${port}`;
      const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
      expect((await fetch(`${url}/api/v1/clusters`)).status).toBe(401);
      expect((await fetch(`${url}/api/v1/clusters`, { headers: auth })).status).toBe(200);
      const created = await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ role: 'viewer' }) });
      expect(created.status).toBe(201);
      const viewer = ((await created.json()) as { token: string }).token;
      expect((await fetch(`${url}/api/v1/clusters`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(200);
      expect((await fetch(`${url}/api/v1/clusters`, { headers: { authorization: `Bearer ${viewer}x` } })).status).toBe(401);
      // Bad and good requests have been logged at trace level by now: no token (nor its secret) is in the log.
      await until(() => (main.output().match(/"request completed"/g) ?? []).length >= 5, 'request logs');
      const log = main.output();
      for (const token of [admin, viewer]) {
        expect(log).not.toContain(token.slice(SECRET_AT));
        expect(log).not.toContain(token.slice(SECRET_AT).slice(0, 20));
      }
      // Access lines never carry request headers.
      expect(log).not.toMatch(/"authorization"/i);
    } finally {
      main.proc.kill('SIGKILL');
    }
  });
});

describe('rate limit', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { SCHEDULER_ENABLED: false, RATE_LIMIT_MAX: 5, RATE_LIMIT_WINDOW_SECONDS: 60 } })));
  afterAll(() => t.close());

  it('answers 429 with Retry-After past the limit, the health check included (it is open, not unlimited)', async () => {
    for (let i = 0; i < 5; i++) await t.http.get('/api/v1/clusters').expect(200);
    const res = await t.http.get('/api/v1/clusters').expect(429);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 429, detail: expect.stringMatching(/at most 5 per 60 s/) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.get('/health').expect(429);
  });
});

describe('headers and CORS', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { SCHEDULER_ENABLED: false, CORS_ORIGINS: 'https://ops.example' } })));
  afterAll(() => t.close());

  it('sends security headers, and CORS only to configured origins', async () => {
    const page = await t.http.get('/health').set('Origin', 'https://evil.example');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await t.http.get('/health').set('Origin', 'https://ops.example');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ops.example');
  });
});

describe('CORS by default', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { SCHEDULER_ENABLED: false } })));
  afterAll(() => t.close());

  it('is closed: no origin is allowed, preflights included', async () => {
    const res = await t.http.options('/api/v1/clusters').set('Origin', 'https://ops.example').set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await t.http.get('/api/v1/clusters').set('Origin', 'https://ops.example').expect(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('a locked database', () => {
  let t: TestApp;
  let locker: WriteLocker;

  beforeAll(async () => {
    // Fast ticks: a tick writing the deferred pass record beside the next pass must not write it twice.
    t = await createTestApp({ env: { SCHEDULER_ENABLED: false, DATABASE_BUSY_TIMEOUT_MS: 200, SCHEDULER_TICK_MS: 10 } });
    locker = await writeLocker(t.databasePath);
  });
  afterAll(async () => {
    await locker.close();
    await t.close();
  });

  it('answers writes with 503 and Retry-After, keeps serving reads, writes nothing half, and skips passes on record', async () => {
    const cluster = await createCluster(t.http);
    const hosts = [await createHost(t.http, cluster.id), await createHost(t.http, cluster.id)];
    for (let i = 0; i < 6; i++) await createVm(t.http, cluster.id, hosts[0].id);
    const before = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id }).expect(200);

    await locker.lock(); // another process holds the write lock
    try {
      const write = await t.http.post('/api/v1/clusters').send({ name: 'while locked' });
      expect(write.status).toBe(503);
      expect(write.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(write.headers['retry-after']).toBe('2');
      expect(write.body.detail).toMatch(/busy|out of space/);

      const sync = await t.http
        .put(`/api/v1/clusters/${cluster.id}/inventory`)
        .send({ hosts: [], vms: [{ name: 'new-vm', hostName: hosts[1].name, vcpus: 1, memoryMib: 1024 }] });
      expect(sync.status).toBe(503);

      const pass = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`);
      expect(pass.status).toBe(503);
      expect(pass.body.detail).toMatch(/pass was skipped/);

      // reads still answer from committed data
      const during = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id }).expect(200);
      expect(during.body.total).toBe(before.body.total);
      await t.http.get(`/api/v1/clusters/${cluster.id}/balance`).expect(200);
    } finally {
      await locker.unlock();
    }

    // nothing of the refused writes is there
    const clusters = await t.http.get('/api/v1/clusters').query({ name: 'while locked' }).expect(200);
    expect(clusters.body.total).toBe(0);
    const after = await t.http.get('/api/v1/vms').query({ clusterId: cluster.id }).expect(200);
    expect(after.body.total).toBe(before.body.total);

    // the next pass runs, and the skipped one is on record before it
    const next = await t.http.post(`/api/v1/clusters/${cluster.id}/passes`).expect(201);
    expect(next.body.status).toBe('completed');
    const passes = await t.http.get(`/api/v1/clusters/${cluster.id}/passes`).expect(200);
    expect(passes.body.items.map((p: { status: string }) => p.status)).toEqual(['completed', 'skipped']);
    expect(passes.body.items[1]).toMatchObject({
      trigger: 'manual',
      notes: expect.stringContaining(`database was unavailable (${locker.busyCode})`),
      movesRecommended: 0,
    });
    await t.http.post('/api/v1/clusters').send({ name: 'after the lock' }).expect(201);
  });
});
