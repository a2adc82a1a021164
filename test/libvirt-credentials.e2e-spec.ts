// Wrong credentials against a REAL libvirtd that requires a SASL login (test/fixtures/libvirt-hosts.sh with
// LIBVIRT_HOSTS_SASL: auth_tcp = "sasl", DIGEST-MD5, its own sasldb), through the real service in a child
// process: no credentials and a wrong password each leave the cluster degraded with an error naming the host;
// the right password makes it ok with the host discovered. Neither password is in any answer or log line.
// One host, no guest. Needs root; `libvirt-hosts.sh install` adds the Debian packages when they are missing.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, CallResult, ChildApp, connectorAppEnv, killApp, startApp } from './helpers/child-app';
import { waitFor } from './helpers/wait';

jest.setTimeout(180_000);

const run = promisify(execFile);
const FIXTURE = join(__dirname, 'fixtures', 'libvirt-hosts.sh');
const fixture = (args: string[], env: Record<string, string> = {}) =>
  run('bash', [FIXTURE, ...args], { maxBuffer: 1 << 20, env: { ...process.env, ...env } });

const USER = 'drs';
// Spaces, '#', ';' and ':' go through the service's auth.conf (a GLib key file) as they are.
const PASSWORD = `pw-${Math.random().toString(36).slice(2)} #;:x`;
const WRONG = `wrong-${Math.random().toString(36).slice(2)}`;

describe('libvirt credentials against a real libvirtd that requires SASL', () => {
  const state = mkdtempSync(join(tmpdir(), 'drs-credentials-e2e-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'drs-credentials-db-'));
  let host = { name: '', uri: '' };
  let app: ChildApp;
  let log = '';
  const answers: string[] = [];
  let clusterId = '';

  async function api(method: string, path: string, body?: unknown): Promise<CallResult> {
    const answer = await call(app, method, `/api/v1${path}`, body);
    answers.push(answer.text);
    return answer;
  }
  const get = async (path: string) => (await api('GET', path)).body;
  const put = (credentials?: { username: string; password: string }) =>
    api('PUT', `/clusters/${clusterId}/connector`, {
      kind: 'libvirt',
      settings: { hosts: [host] },
      ...(credentials ? { credentials } : {}),
    });
  /** The connector once its last sync or collection left `lastError` matching. */
  const connectorWhen = (state: string, lastError: RegExp | null) =>
    waitFor(
      async () => {
        const body = await get(`/clusters/${clusterId}/connector`);
        if (body.state !== state) return null;
        if (lastError === null) return body.lastError === null && body.lastSyncAt ? body : null;
        return lastError.test(body.lastError ?? '') ? body : null;
      },
      30_000,
      250,
    );

  beforeAll(async () => {
    await fixture(['install']);
    const up = await fixture(['up', state, '1'], { LIBVIRT_HOSTS_SASL: `${USER}:${PASSWORD}` });
    const [name, , uri] = up.stdout.trim().split(' ');
    host = { name, uri };
    app = await startApp(connectorAppEnv(join(dataDir, 'drs.sqlite'), 2));
    app.proc.stdout!.on('data', (chunk) => (log += chunk));
    app.proc.stderr!.on('data', (chunk) => (log += chunk));
    const cluster = await api('POST', '/clusters', { name: 'kvm-sasl' });
    expect(cluster.status).toBe(201);
    clusterId = cluster.body.id;
  });

  afterAll(async () => {
    if (app) await killApp(app);
    await fixture(['down', state]).catch((error: Error) => console.error(error.message));
    rmSync(state, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('without credentials: degraded, naming the host and saying credentials are needed', async () => {
    expect((await put()).status).toBe(200);
    const connector = await connectorWhen('degraded', /none were given/);
    expect(connector.lastError).toMatch(new RegExp(`^${host.name}: .*authentication failed.*set the connector's credentials`));
    expect((await get(`/hosts?clusterId=${clusterId}`)).total).toBe(0);
  });

  it('with a wrong password: degraded, naming the host and saying authentication failed', async () => {
    const answer = await put({ username: USER, password: WRONG });
    expect(answer.status).toBe(200);
    expect(answer.body.hasCredentials).toBe(true);
    const connector = await connectorWhen('degraded', /check the credentials/);
    // The host named once, libvirt's "authentication failed: authentication failed" said once; which virsh call failed first varies.
    expect(connector.lastError).toMatch(
      new RegExp(`^${host.name}: virsh [a-z]+: authentication failed \\(check the credentials and the daemon's auth settings\\)$`),
    );
    expect((await get(`/hosts?clusterId=${clusterId}`)).total).toBe(0);
    const degraded = await get(`/events?clusterId=${clusterId}&type=connector.degraded`);
    expect(degraded.items[0].message).toContain(host.name);
  });

  it('with the right password: ok, and the host discovered', async () => {
    expect((await put({ username: USER, password: PASSWORD })).status).toBe(200);
    const connector = await connectorWhen('ok', null);
    expect(connector).toMatchObject({ hasCredentials: true, lastError: null });
    const hosts = await get(`/hosts?clusterId=${clusterId}`);
    expect(hosts.items.map((h: { name: string; state: string }) => `${h.name} ${h.state}`)).toEqual([`${host.name} connected`]);
  });

  it('neither password is in any answer nor any log line', async () => {
    // Every event of the cluster, read back as an operator would: the connector's configuration is in them.
    await get(`/events?clusterId=${clusterId}&limit=100`);
    expect(log).toContain('connector degraded');
    expect(log).toContain('inventory synced');
    for (const secret of [PASSWORD, WRONG]) {
      expect(answers.filter((text) => text.includes(secret))).toEqual([]);
      expect(log.split('\n').filter((line) => line.includes(secret))).toEqual([]);
    }
  });

  it('a service killed while it holds the credentials leaves them on disk; the next start removes them', async () => {
    const authDirs = (pid: number) => readdirSync(tmpdir()).filter((name) => name.startsWith(`drs-libvirt-auth-${pid}-`));
    const killed = app.proc.pid!;
    const [folder] = authDirs(killed);
    expect(readFileSync(join(tmpdir(), folder, 'auth.conf'), 'utf8')).toContain(`authname=${USER}`);
    await killApp(app);
    expect(authDirs(killed)).toEqual([folder]);
    // A fresh database: no connector starts, so only the start itself can remove them.
    app = await startApp({ DATABASE_PATH: join(dataDir, 'fresh.sqlite'), DEMO_ENABLED: false, SCHEDULER_ENABLED: false });
    expect((await fetch(`${app.baseUrl}/health`)).status).toBe(200);
    expect(authDirs(killed)).toEqual([]);
  });
});
