// Access control: bearer tokens with viewer / operator / admin roles, checked on every endpoint family.
import { createHash, randomBytes, randomUUID, scryptSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { query } from './helpers/child-app';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, TestApp } from './helpers/test-app';
import { createTokenWithCli, untilTokensRequired } from './helpers/tokens';

/** Where a token's secret starts: after `drs_<16 hex>_` (the secret itself may hold `_`). */
const SECRET_AT = 'drs_0123456789abcdef_'.length;

type Role = 'none' | 'viewer' | 'operator' | 'admin';
interface Call {
  family: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  body?: unknown;
  /** The least role that gets past access control. */
  needs: Exclude<Role, 'none'>;
}

jest.setTimeout(60_000);

const RANK: Record<Role, number> = { none: 0, viewer: 1, operator: 2, admin: 3 };
const ZERO = '00000000-0000-4000-8000-000000000000';

/** The database, read as it is (on PostgreSQL when the specs run there). */
const rawRows = (path: string, sql: string) => query<Record<string, unknown>>(path, sql);

describe('access control', () => {
  let t: TestApp;
  const tokens: Partial<Record<Role, string>> = {};
  const tokenIds: Partial<Record<Role, string>> = {};
  let calls: Call[];

  beforeAll(async () => {
    t = await createTestApp({ env: { SCHEDULER_ENABLED: false } });
    // No token yet: the API is open (the service only listens on loopback then).
    const cluster = await createCluster(t.http);
    const host = await createHost(t.http, cluster.id);
    const vm = await createVm(t.http, cluster.id, host.id);
    const c = `/api/v1/clusters/${cluster.id}`;
    calls = [
      { family: 'clusters', method: 'get', path: '/api/v1/clusters', needs: 'viewer' },
      { family: 'clusters', method: 'post', path: '/api/v1/clusters', body: {}, needs: 'operator' },
      { family: 'inventory sync', method: 'put', path: `${c}/inventory`, body: {}, needs: 'operator' },
      { family: 'hosts', method: 'get', path: `/api/v1/hosts/${host.id}`, needs: 'viewer' },
      { family: 'hosts', method: 'post', path: '/api/v1/hosts', body: {}, needs: 'operator' },
      { family: 'vms', method: 'get', path: '/api/v1/vms', needs: 'viewer' },
      { family: 'vms', method: 'patch', path: `/api/v1/vms/${vm.id}`, body: { vcpus: -1 }, needs: 'operator' },
      { family: 'vms', method: 'delete', path: `/api/v1/vms/${ZERO}`, needs: 'operator' },
      { family: 'groups', method: 'get', path: '/api/v1/groups', needs: 'viewer' },
      { family: 'rules', method: 'post', path: '/api/v1/rules', body: {}, needs: 'operator' },
      { family: 'samples', method: 'post', path: '/api/v1/samples', body: { samples: [] }, needs: 'operator' },
      { family: 'samples', method: 'get', path: `/api/v1/vms/${vm.id}/demand`, needs: 'viewer' },
      { family: 'balancer', method: 'get', path: `${c}/balance`, needs: 'viewer' },
      { family: 'balancer', method: 'post', path: `${c}/plan`, body: {}, needs: 'viewer' },
      { family: 'balancer', method: 'post', path: `${c}/placement`, body: {}, needs: 'viewer' },
      { family: 'policy', method: 'get', path: `${c}/policy`, needs: 'viewer' },
      { family: 'policy', method: 'put', path: `${c}/policy`, body: { migrationThreshold: 9 }, needs: 'operator' },
      { family: 'passes', method: 'get', path: `${c}/passes`, needs: 'viewer' },
      { family: 'passes', method: 'post', path: `/api/v1/clusters/${ZERO}/passes`, needs: 'operator' },
      { family: 'recommendations', method: 'get', path: '/api/v1/recommendations', needs: 'viewer' },
      { family: 'recommendations', method: 'post', path: `/api/v1/recommendations/${ZERO}/apply`, needs: 'operator' },
      { family: 'recommendations', method: 'post', path: `/api/v1/recommendations/${ZERO}/dismiss`, needs: 'operator' },
      { family: 'migrations', method: 'get', path: '/api/v1/migrations', needs: 'viewer' },
      { family: 'migrations', method: 'post', path: '/api/v1/migrations', body: {}, needs: 'operator' },
      { family: 'migrations', method: 'post', path: `/api/v1/migrations/${ZERO}/cancel`, needs: 'operator' },
      { family: 'maintenance', method: 'get', path: `/api/v1/hosts/${host.id}/maintenance`, needs: 'viewer' },
      { family: 'maintenance', method: 'post', path: `/api/v1/hosts/${ZERO}/maintenance`, needs: 'operator' },
      { family: 'events', method: 'get', path: '/api/v1/events', needs: 'viewer' },
      { family: 'metrics', method: 'get', path: '/metrics', needs: 'viewer' },
      { family: 'tokens', method: 'get', path: '/api/v1/tokens', needs: 'admin' },
      { family: 'tokens', method: 'post', path: '/api/v1/tokens', body: { role: 'nobody' }, needs: 'admin' },
      { family: 'tokens', method: 'delete', path: `/api/v1/tokens/${ZERO}`, needs: 'admin' },
    ];

    // The API refuses to make the first token; the CLI makes it on the database file, and from then on access control is on.
    await t.http.post('/api/v1/tokens').send({ role: 'admin', name: 'first admin' }).expect(403);
    tokens.admin = await createTokenWithCli(t.databasePath, 'admin', 'first admin');
    await untilTokensRequired(t.http);
    const listed = await t.http.get('/api/v1/tokens').set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    tokenIds.admin = listed.body.items[0].id;
    for (const role of ['viewer', 'operator'] as const) {
      const res = await t.http
        .post('/api/v1/tokens')
        .set('Authorization', `Bearer ${tokens.admin}`)
        .send({ role, name: `${role} for tests` })
        .expect(201);
      tokens[role] = res.body.token;
      tokenIds[role] = res.body.id;
    }
  });
  afterAll(() => t.close());

  it('shows a token once, at creation, and stores only a keyed hash of it', async () => {
    expect(tokens.admin).toMatch(/^drs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const list = await t.http.get('/api/v1/tokens').set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    expect(list.body.total).toBe(3);
    for (const item of list.body.items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'name', 'revokedAt', 'role']);
    const text = JSON.stringify(list.body);
    for (const token of Object.values(tokens)) expect(text).not.toContain(token.slice(SECRET_AT));

    const rows = await rawRows(t.databasePath, 'SELECT * FROM api_tokens');
    expect(rows).toHaveLength(3);
    const stored = JSON.stringify(rows);
    for (const token of Object.values(tokens)) expect(stored).not.toContain(token.slice(SECRET_AT));
    // HMAC under the service's key: distinct per token, and not the plain digest of the secret (which
    // anyone with a copy of the database could test guesses against); the key is not in the database
    expect(rows.map((r) => r.hashScheme)).toEqual(['hmac-sha256', 'hmac-sha256', 'hmac-sha256']);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(3);
    for (const token of Object.values(tokens))
      expect(stored).not.toContain(createHash('sha256').update(token.slice(SECRET_AT)).digest('hex'));
    const key = readFileSync(join(dirname(t.databasePath), 'service.key'));
    expect(key).toHaveLength(32);
    expect(statSync(join(dirname(t.databasePath), 'service.key')).mode & 0o777).toBe(0o600);
    expect(stored).not.toContain(key.toString('hex'));
    expect(stored).not.toContain(key.toString('base64'));
    // Events tell who made which token through the API (the CLI writes none), never the token.
    const events = await t.http.get('/api/v1/events').query({ type: 'token' }).set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    expect(events.body.total).toBe(2);
    for (const token of Object.values(tokens)) expect(JSON.stringify(events.body)).not.toContain(token.slice(SECRET_AT));
  });

  it('lets each role through exactly where it may go, on every endpoint family', async () => {
    const outcomes: string[] = [];
    for (const role of ['none', 'viewer', 'operator', 'admin'] as Role[]) {
      for (const call of calls) {
        let req = t.http[call.method](call.path);
        if (role !== 'none') req = req.set('Authorization', `Bearer ${tokens[role]}`);
        const res = await (call.body === undefined ? req : req.send(call.body as object));
        const expected = role === 'none' ? 401 : RANK[role] >= RANK[call.needs] ? 'through' : 403;
        const got = res.status === 401 || res.status === 403 ? res.status : 'through';
        if (got !== expected)
          outcomes.push(`${role} ${call.method.toUpperCase()} ${call.path} (${call.family}): ${res.status}, expected ${expected}`);
        if (typeof got === 'number') {
          expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
          expect(res.body.status).toBe(got);
        }
        if (got === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    expect(outcomes).toEqual([]);
  });

  it('keeps the health check open and refuses wrong, malformed and foreign tokens', async () => {
    await t.http.get('/health').expect(200);
    const wrongSecret = tokens.operator!.slice(0, -4) + (tokens.operator!.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const header of [
      `Bearer ${wrongSecret}`,
      'Bearer drs_0000000000000000_' + 'A'.repeat(43),
      'Bearer nonsense',
      `Basic ${tokens.admin}`,
      `Bearer`,
      `${tokens.admin}`,
    ]) {
      const res = await t.http.get('/api/v1/clusters').set('Authorization', header).expect(401);
      expect(res.body.detail).toMatch(/token/i);
    }
  });

  it('refuses a revoked token at once, and keeps it listed as revoked', async () => {
    await t.http.get('/api/v1/clusters').set('Authorization', `Bearer ${tokens.operator}`).expect(200);
    const revoked = await t.http.delete(`/api/v1/tokens/${tokenIds.operator}`).set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(Number));
    expect(revoked.body.token).toBeUndefined();
    await t.http.get('/api/v1/clusters').set('Authorization', `Bearer ${tokens.operator}`).expect(401);
    await t.http.post('/api/v1/clusters').set('Authorization', `Bearer ${tokens.operator}`).send({ name: 'after revoke' }).expect(401);
    await t.http.delete(`/api/v1/tokens/${ZERO}`).set('Authorization', `Bearer ${tokens.admin}`).expect(404);
    // revoking again changes nothing: same time, one event
    const again = await t.http.delete(`/api/v1/tokens/${tokenIds.operator}`).set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const events = await t.http
      .get('/api/v1/events')
      .query({ type: 'token.revoked' })
      .set('Authorization', `Bearer ${tokens.admin}`)
      .expect(200);
    expect(events.body.total).toBe(1);
    const list = await t.http.get('/api/v1/tokens').set('Authorization', `Bearer ${tokens.admin}`).expect(200);
    expect(list.body.items.find((i: { id: string }) => i.id === tokenIds.operator).revokedAt).toEqual(expect.any(Number));
    // the viewer still works
    await t.http.get('/api/v1/clusters').set('Authorization', `Bearer ${tokens.viewer}`).expect(200);
  });

  it('keeps accepting a token stored with scrypt by an earlier version, and stores it as HMAC from its first use', async () => {
    const secret = randomBytes(32).toString('base64url');
    const keyId = randomBytes(8).toString('hex');
    const salt = randomBytes(16).toString('hex');
    const hash = scryptSync(secret, Buffer.from(salt, 'hex'), 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('hex');
    await rawRows(
      t.databasePath,
      `INSERT INTO api_tokens (id, keyId, name, role, salt, hash, createdAt, revokedAt) VALUES ('${randomUUID()}', '${keyId}', 'from 0.1', 'viewer', '${salt}', '${hash}', 1, NULL)`,
    );
    const legacy = `drs_${keyId}_${secret}`;
    await t.http
      .get('/api/v1/clusters')
      .set('Authorization', `Bearer drs_${keyId}_${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)
      .expect(401);
    await t.http.get('/api/v1/clusters').set('Authorization', `Bearer ${legacy}`).expect(200);
    const [row] = await rawRows(t.databasePath, `SELECT hashScheme, salt, hash FROM api_tokens WHERE keyId = '${keyId}'`);
    expect(row).toMatchObject({ hashScheme: 'hmac-sha256', salt: '' });
    expect(row.hash).not.toBe(hash);
    await t.http.get('/api/v1/clusters').set('Authorization', `Bearer ${legacy}`).expect(200);
    await t.http.post('/api/v1/clusters').set('Authorization', `Bearer ${legacy}`).send({ name: 'viewer may not' }).expect(403);
  });

  it('validates token requests like any other body', async () => {
    const res = await t.http
      .post('/api/v1/tokens')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .send({ role: 'root', extra: 1 })
      .expect(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['extra', 'role']);
  });
});
