// The connectors' loops across the app's life, in process: they resume at start for every configured
// cluster, and closing the app leaves no timer behind. A URI nothing answers is enough here (no libvirt
// host needed): the loops run and report it.
import { join } from 'node:path';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { createTokenWithCli, untilTokensRequired } from './helpers/tokens';
import { waitFor } from './helpers/wait';

jest.setTimeout(60_000);

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
const env = { CONNECTOR_SYNC_INTERVAL_SECONDS: 1, CONNECTOR_COLLECT_INTERVAL_SECONDS: 1, SCHEDULER_ENABLED: false };

describe('connector loops across restarts', () => {
  const dir = makeTempDir();
  const databasePath = join(dir, 'drs.sqlite');
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    removeTempDir(dir);
  });

  const degraded = async (clusterId: string) =>
    waitFor(
      async () => {
        const res = await t!.http.get(`/api/v1/clusters/${clusterId}/connector`);
        return res.body.state === 'degraded' ? res.body : null;
      },
      20_000,
      100,
    );

  it('resumes the loops of configured clusters at start, and stops every one on close', async () => {
    const before = timers();
    t = await createTestApp({ databasePath, env });
    const clusterId = (await t.http.post('/api/v1/clusters').send({ name: 'c' }).expect(201)).body.id;
    await t.http
      .put(`/api/v1/clusters/${clusterId}/connector`)
      .send({ kind: 'libvirt', settings: { hosts: [{ name: 'gone', uri: 'qemu+tcp://127.0.0.1:1/system' }] } })
      .expect(200);
    const first = await degraded(clusterId);
    expect(first.lastError).toMatch(/^gone: /);
    await t.close();
    t = undefined;
    expect(timers()).toBeLessThanOrEqual(before);

    t = await createTestApp({ databasePath, env });
    // The stored state is shown until the loops report again, and they do: lastSyncAt moves on.
    const again = await waitFor(
      async () => {
        const res = await t!.http.get(`/api/v1/clusters/${clusterId}/connector`);
        return res.body.lastSyncAt > first.lastSyncAt ? res.body : null;
      },
      20_000,
      100,
    );
    expect(again).toMatchObject({ state: 'degraded', kind: 'libvirt' });
    expect(again.lastError).toMatch(/^gone: /);
    // One degraded event: the restart is no new transition.
    expect((await t.http.get(`/api/v1/events?clusterId=${clusterId}&type=connector.degraded`)).body.total).toBe(1);
    await t.close();
    t = undefined;
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('lets operators configure and remove a connector, viewers only read it, and names who did it in the events', async () => {
    t = await createTestApp({ databasePath: join(dir, 'roles.sqlite'), env });
    const clusterId = (await t.http.post('/api/v1/clusters').send({ name: 'roles' }).expect(201)).body.id;
    const viewer = await createTokenWithCli(t.databasePath, 'viewer', 'watcher');
    const operator = await createTokenWithCli(t.databasePath, 'operator', 'ops');
    await untilTokensRequired(t.http);
    const as = (token: string) => ({ Authorization: `Bearer ${token}` });
    const body = {
      kind: 'libvirt',
      settings: { hosts: [{ name: 'gone', uri: 'qemu+tcp://127.0.0.1:1/system' }] },
      credentials: { username: 'u', password: 'p' },
    };

    await t.http.put(`/api/v1/clusters/${clusterId}/connector`).set(as(viewer)).send(body).expect(403);
    await t.http.get(`/api/v1/clusters/${clusterId}/connector`).set(as(viewer)).expect(404);
    await t.http.put(`/api/v1/clusters/${clusterId}/connector`).set(as(operator)).send(body).expect(200);
    const seen = await t.http.get(`/api/v1/clusters/${clusterId}/connector`).set(as(viewer)).expect(200);
    expect(seen.body).toMatchObject({ kind: 'libvirt', hasCredentials: true });
    await t.http.delete(`/api/v1/clusters/${clusterId}/connector`).set(as(viewer)).expect(403);
    await t.http.delete(`/api/v1/clusters/${clusterId}/connector`).set(as(operator)).expect(204);

    const events = await t.http.get(`/api/v1/events?clusterId=${clusterId}&type=connector`).set(as(viewer)).expect(200);
    const byType = new Map(events.body.items.map((e: { type: string; actor: unknown }) => [e.type, e.actor]));
    expect(byType.get('connector.configured')).toMatchObject({ type: 'token', name: 'ops', role: 'operator' });
    expect(byType.get('connector.removed')).toMatchObject({ type: 'token', name: 'ops', role: 'operator' });
  });
});
