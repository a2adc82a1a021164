/**
 * It asserts speeds (refusals within 200 ms and 1 s, a p99 of 100 ms): it has the machine to
 * itself (test/helpers/machine-lock-environment.js).
 *
 * @machine exclusive
 */
// Request intake (issue 13, items 1-3): who is asking, from which Host and how often is decided before
// any body is read; bodies are read under caps while they stream in; validation stops early. The memory
// attacks run against the real app in a child process, whose RSS is read from /proc.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ChildApp, killApp, startApp } from './helpers/child-app';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { createTokenWithCli } from './helpers/tokens';

jest.setTimeout(180_000);

const MB = 1024 * 1024;

/** The resident set of a process, from /proc/<pid>/status. */
function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read as supertest reads one (see eslint.config.mjs)
  body: any;
  ms: number;
}

/** One request with any headers (fetch would not send a Host of our choosing). */
function send(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawAnswer> {
  const started = performance.now();
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // a dashboard page, say
          }
          resolve({ status: res.statusCode!, headers: res.headers, body: parsed, ms: performance.now() - started });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `[0,0,…]` with 15 million elements (30 MB of JSON), gzipped to under 64 KB: the bomb. */
function gzipBomb(): Buffer {
  const elements = 15_000_000;
  // ",0,0,…,0," with its first and last comma made brackets
  const text = Buffer.alloc(elements * 2 + 1, ',0');
  text[0] = 0x5b;
  text[text.length - 1] = 0x5d;
  const bomb = gzipSync(text, { level: 9 });
  expect({ inflated: text.length, onTheWire: bomb.length }).toEqual({ inflated: 30_000_001, onTheWire: expect.any(Number) });
  expect(bomb.length).toBeLessThan(64 * 1024);
  return bomb;
}

const BOMB_HEADERS = { 'content-type': 'application/json', 'content-encoding': 'gzip' };

/** Runs `attack` while sampling the child's RSS every 10 ms; resolves to the attack's result and the highest growth seen. */
async function withRss<T>(child: ChildApp, attack: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const before = rssBytes(child.proc.pid!);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(child.proc.pid!))), 10);
  try {
    const result = await attack();
    // Whatever the request left behind (a parse still running, say) shows a little later.
    await new Promise((r) => setTimeout(r, 300));
    peak = Math.max(peak, rssBytes(child.proc.pid!));
    return { result, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))];

describe('request intake in a real app with a token configured', () => {
  let dir: string;
  let child: ChildApp;
  let token: string;
  let bomb: Buffer;

  beforeAll(async () => {
    dir = makeTempDir();
    const databasePath = join(dir, 'drs.sqlite');
    token = await createTokenWithCli(databasePath, 'operator');
    child = await startApp({ DATABASE_PATH: databasePath, DEMO_ENABLED: false, SCHEDULER_ENABLED: false });
    bomb = gzipBomb();
    // Warm up: the first requests of a fresh process compile code and fill caches.
    for (let i = 0; i < 20; i++) await send(child.baseUrl, 'GET', '/health');
    await send(child.baseUrl, 'GET', '/api/v1/clusters', { authorization: `Bearer ${token}` });
  });
  afterAll(async () => {
    if (child) await killApp(child);
    removeTempDir(dir);
  });

  it('refuses the gzip bomb without a token, to a path that does not exist, within 200 ms and without growing', async () => {
    const { result, growth } = await withRss(child, () => send(child.baseUrl, 'POST', '/api/v1/no-such-thing', BOMB_HEADERS, bomb));
    expect({ status: result.status, type: result.headers['content-type'] }).toEqual({
      status: expect.any(Number),
      type: expect.stringMatching(/application\/problem\+json/),
    });
    expect([401, 413]).toContain(result.status);
    expect(result.ms).toBeLessThan(200);
    expect(growth).toBeLessThan(64 * MB);
  });

  it('keeps GET /health under 100 ms at p99 while bombs arrive four at once, every 100 ms for 2 s', async () => {
    const latencies: number[] = [];
    const statuses: number[] = [];
    let attacking = true;
    const attack = (async () => {
      for (let wave = 0; wave < 20; wave++) {
        const next = new Promise((r) => setTimeout(r, 100));
        const answers = await Promise.all([0, 1, 2, 3].map(() => send(child.baseUrl, 'POST', '/api/v1/nothing-here', BOMB_HEADERS, bomb)));
        statuses.push(...answers.map((a) => a.status));
        await next;
      }
      attacking = false;
    })();
    const { growth } = await withRss(child, async () => {
      while (attacking) {
        const health = await send(child.baseUrl, 'GET', '/health');
        expect(health.status).toBe(200);
        latencies.push(health.ms);
      }
      await attack;
    });
    expect(statuses.length).toBe(80);
    expect(statuses.filter((s) => s !== 401 && s !== 413)).toEqual([]);
    expect(latencies.length).toBeGreaterThan(20);
    expect(p99(latencies)).toBeLessThan(100);
    expect(growth).toBeLessThan(64 * MB);
  });

  it('refuses three million empty samples from a valid token with 400 naming samples, within 1 s and without growing', async () => {
    // A Buffer, so that the time measured is the service's, not this process's encoding of a 9 MB string.
    const body = Buffer.from(`{"samples":[${'{},'.repeat(2_999_999)}{}]}`);
    expect(body.length).toBeGreaterThan(9_000_000);
    const { result, growth } = await withRss(child, () =>
      send(child.baseUrl, 'POST', '/api/v1/samples', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body),
    );
    expect(result.status).toBe(400);
    expect(result.body.errors.map((e: { field: string }) => e.field)).toEqual(['samples']);
    expect(result.ms).toBeLessThan(1000);
    expect(growth).toBeLessThan(64 * MB);
  });

  it('gives a body without a valid token its 401 before the body has even arrived', async () => {
    const url = new URL(child.baseUrl);
    let answered = false;
    const answer = await new Promise<{ status: number; detail: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'PUT',
          path: '/api/v1/clusters/00000000-0000-4000-8000-000000000000/inventory',
          headers: { 'content-type': 'application/json', 'content-length': String(20 * MB) },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            answered = true;
            resolve({ status: res.statusCode!, detail: JSON.parse(text).detail });
            req.destroy();
          });
        },
      );
      req.on('error', (err) => (answered ? undefined : reject(err)));
      // 1 KB of the announced 20 MB, and then nothing: only an answer that did not wait for the body can arrive.
      req.write(`{"hosts":[${' '.repeat(1000)}`);
    });
    expect(answer).toEqual({ status: 401, detail: expect.stringMatching(/requires an API token/) });
  });
});

describe('request intake in a real app in open mode (no token)', () => {
  let dir: string;
  let child: ChildApp;

  beforeAll(async () => {
    dir = makeTempDir();
    child = await startApp({ DATABASE_PATH: join(dir, 'drs.sqlite'), DEMO_ENABLED: false, SCHEDULER_ENABLED: false });
    for (let i = 0; i < 20; i++) await send(child.baseUrl, 'GET', '/health');
  });
  afterAll(async () => {
    if (child) await killApp(child);
    removeTempDir(dir);
  });

  it('refuses the gzip bomb (400 or 413) without the memory blow-up, on a real route and on no route', async () => {
    const bomb = gzipBomb();
    for (const path of ['/api/v1/samples', '/api/v1/no-such-thing']) {
      const { result, growth } = await withRss(child, () => send(child.baseUrl, 'POST', path, BOMB_HEADERS, bomb));
      expect({ path, status: [400, 413].includes(result.status), type: result.headers['content-type'] }).toEqual({
        path,
        status: true,
        type: expect.stringMatching(/application\/problem\+json/),
      });
      expect(result.ms).toBeLessThan(1000);
      expect(growth).toBeLessThan(64 * MB);
    }
  });
});

describe('Host check in open mode', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { SCHEDULER_ENABLED: false } });
    const server = t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  afterAll(async () => {
    await t.close();
    removeTempDir(join(t.databasePath, '..'));
  });

  it('refuses a foreign Host with 421 on every route, the token route, the health check and the dashboard included', async () => {
    const doc = (await send(base, 'GET', '/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => [method.toUpperCase(), path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000')] as const),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        ['POST', '/api/v1/tokens'],
        ['GET', '/health'],
      ]),
    );
    routes.push(['GET', '/'], ['GET', '/index.html'], ['GET', '/docs'], ['GET', '/no-such-page'], ['POST', '/api/v1/no-such-thing']);
    const wrong: string[] = [];
    for (const host of ['attacker.example', 'attacker.example:3000', 'localhost.attacker.example', '127.0.0.1.nip.io:8080', '10.0.0.5']) {
      for (const [method, path] of routes) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify({ role: 'admin' });
        const res = await send(base, method, path, { host, 'content-type': 'application/json' }, body);
        if (res.status !== 421 || !String(res.headers['content-type']).startsWith('application/problem+json'))
          wrong.push(`${host} ${method} ${path}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    const tokens = await send(base, 'GET', '/api/v1/tokens');
    expect(tokens.body.total).toBe(0);
  });

  it('serves localhost, 127.0.0.1 and [::1], with and without the port', async () => {
    const port = new URL(base).port;
    for (const name of ['localhost', '127.0.0.1', '[::1]', 'LOCALHOST']) {
      for (const host of [name, `${name}:${port}`]) {
        expect({ host, status: (await send(base, 'GET', '/api/v1/clusters', { host })).status }).toEqual({ host, status: 200 });
        expect({ host, status: (await send(base, 'GET', '/health', { host })).status }).toEqual({ host, status: 200 });
      }
    }
  });

  it('makes no token through the API: 403 naming the CLI', async () => {
    const res = await send(
      base,
      'POST',
      '/api/v1/tokens',
      { host: 'localhost', 'content-type': 'application/json' },
      JSON.stringify({ role: 'admin' }),
    );
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('npm run token -- create --role admin');
    expect((await send(base, 'GET', '/api/v1/tokens')).body.total).toBe(0);
  });
});

describe('Host check with tokens', () => {
  let dir: string;
  let token: string;
  beforeAll(async () => {
    dir = makeTempDir();
    token = await createTokenWithCli(join(dir, 'drs.sqlite'), 'viewer');
  });
  afterAll(() => removeTempDir(dir));

  it('serves any Host without ALLOWED_HOSTS, and only the listed ones with it', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    let t = await createTestApp({ databasePath: join(dir, 'drs.sqlite'), env: { SCHEDULER_ENABLED: false } });
    try {
      await t.http.get('/api/v1/clusters').set(auth).set('Host', 'drs.internal.example').expect(200);
    } finally {
      await t.close();
    }
    t = await createTestApp({
      databasePath: join(dir, 'drs.sqlite'),
      env: { SCHEDULER_ENABLED: false, ALLOWED_HOSTS: 'drs.example.org, 10.0.0.5,::1' },
    });
    try {
      for (const host of ['drs.example.org', 'DRS.example.org:8443', '10.0.0.5:3000', '[::1]:3000']) {
        await t.http.get('/api/v1/clusters').set(auth).set('Host', host).expect(200);
      }
      for (const host of ['attacker.example', 'localhost', 'drs.example.org.attacker.example']) {
        const res = await t.http.get('/api/v1/clusters').set(auth).set('Host', host).expect(421);
        expect(res.body.detail).toMatch(/ALLOWED_HOSTS/);
        await t.http.get('/health').set('Host', host).expect(421);
      }
    } finally {
      await t.close();
    }
  });
});

describe('rate limit ahead of routing', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ env: { SCHEDULER_ENABLED: false, RATE_LIMIT_MAX: 5, RATE_LIMIT_WINDOW_SECONDS: 60 } })));
  afterAll(async () => {
    await t.close();
    removeTempDir(join(t.databasePath, '..'));
  });

  it('counts 404s and the health check, then answers 429 with Retry-After everywhere', async () => {
    for (let i = 0; i < 3; i++) await t.http.get(`/api/v1/no-such-thing-${i}`).expect(404);
    await t.http.get('/health').expect(200);
    await t.http.get('/index.html').expect(200);
    for (const path of ['/health', '/api/v1/clusters', '/no-such-page', '/']) {
      const res = await t.http.get(path).expect(429);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.detail).toMatch(/at most 5 per 60 s/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
  });
});
