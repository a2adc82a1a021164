// Attribution: every event an API write causes names the token that made it (id, name, role), or
// `local` while access control is off. Events of background work name nobody.
import { LOCAL_ACTOR } from '../src/events/actor';
import { TokensService } from '../src/auth/tokens.service';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { waitFor } from './helpers/wait';
import { createTestApp, TestApp } from './helpers/test-app';

interface EventItem {
  type: string;
  subjectId: string | null;
  actor: unknown;
}

describe('who made a change', () => {
  let t: TestApp;
  let admin: { id: string; token: string };
  let ops: { id: string; token: string };
  let clusterId: string;
  let hosts: { id: string }[];
  let vmId: string;
  /** Big enough (128 GiB) that its migration runs for seconds. */
  let bigVmId: string;

  const as = (token: string) => ({ Authorization: `Bearer ${token}` });
  const events = async (query: Record<string, string>): Promise<EventItem[]> =>
    (
      await t.http
        .get('/api/v1/events')
        .set(as(admin.token))
        .query({ limit: 200, ...query })
        .expect(200)
    ).body.items;

  beforeAll(async () => {
    t = await createTestApp({ env: { SCHEDULER_ENABLED: false, MIGRATION_TIME_SCALE: 20 } });
    // Open mode (no token yet): the change is the local user's.
    const cluster = await createCluster(t.http);
    clusterId = cluster.id;
    hosts = [await createHost(t.http, clusterId), await createHost(t.http, clusterId), await createHost(t.http, clusterId)];
    vmId = (await createVm(t.http, clusterId, hosts[0].id)).id;
    bigVmId = (await createVm(t.http, clusterId, hosts[2].id, { memoryMib: 131072 })).id;
    await t.http.put(`/api/v1/clusters/${clusterId}/policy`).send({ migrationThreshold: 3 }).expect(200);
    // The first admin token, as the CLI makes it (creating one through the API in open mode may be refused).
    const first = await t.app.get(TokensService).create('admin', 'first admin', LOCAL_ACTOR);
    admin = { id: first.id, token: first.token };
    const created = await t.http.post('/api/v1/tokens').set(as(admin.token)).send({ role: 'operator', name: 'ops pipeline' }).expect(201);
    ops = { id: created.body.id, token: created.body.token };
  });
  afterAll(() => t.close());

  it('says `local` for changes made while access control was off', async () => {
    const [cluster] = await events({ type: 'cluster.created', subjectId: clusterId });
    expect(cluster.actor).toEqual({ type: 'local' });
    const [policy] = await events({ type: 'policy.changed', clusterId });
    expect(policy.actor).toEqual({ type: 'local' });
    const [first] = await events({ type: 'token.created', subjectId: admin.id });
    expect(first.actor).toEqual({ type: 'local' });
  });

  it('names the token of each write: cluster, inventory sync, group, policy, manual migration, maintenance, token create and revoke', async () => {
    const opsActor = { type: 'token', id: ops.id, name: 'ops pipeline', role: 'operator' };
    const adminActor = { type: 'token', id: admin.id, name: 'first admin', role: 'admin' };

    const other = (await t.http.post('/api/v1/clusters').set(as(ops.token)).send({ name: 'made by ops' }).expect(201)).body;
    expect((await events({ type: 'cluster.created', subjectId: other.id }))[0].actor).toEqual(opsActor);
    await t.http
      .put(`/api/v1/clusters/${other.id}/inventory`)
      .set(as(ops.token))
      .send({
        hosts: [{ name: 'kvm-1', cpuCores: 16, cpuMhz: 38400, memoryMib: 65536 }],
        vms: [{ name: 'db-1', hostName: 'kvm-1', vcpus: 2, memoryMib: 4096 }],
      })
      .expect(200);
    const [synced] = await events({ type: 'inventory.synced', clusterId: other.id });
    expect(synced.actor).toEqual(opsActor);
    const group = (
      await t.http
        .post('/api/v1/groups')
        .set(as(ops.token))
        .send({ clusterId, name: 'pair', kind: 'vm', memberIds: [vmId] })
        .expect(201)
    ).body;
    expect((await events({ type: 'group.created', subjectId: group.id }))[0].actor).toEqual(opsActor);
    await t.http.delete(`/api/v1/groups/${group.id}`).set(as(admin.token)).expect(204);
    expect((await events({ type: 'group.deleted', subjectId: group.id }))[0].actor).toEqual(adminActor);

    const [created] = await events({ type: 'token.created', subjectId: ops.id });
    expect(created.actor).toEqual(adminActor);

    await t.http.put(`/api/v1/clusters/${clusterId}/policy`).set(as(ops.token)).send({ migrationThreshold: 2 }).expect(200);
    const [policy] = await events({ type: 'policy.changed', clusterId });
    expect(policy.actor).toEqual(opsActor);

    const migration = (await t.http.post('/api/v1/migrations').set(as(ops.token)).send({ vmId, targetHostId: hosts[1].id }).expect(201))
      .body;
    const [queued] = await events({ type: 'migration.queued', subjectId: migration.id });
    expect(queued.actor).toEqual(opsActor);
    // the migration's own progress is the engine's doing, not a request's
    await waitFor(async () => (await events({ type: 'migration.succeeded', subjectId: migration.id })).length === 1, 20_000);
    const [succeeded] = await events({ type: 'migration.succeeded', subjectId: migration.id });
    expect(succeeded.actor).toBeNull();

    // maintenance: the request and the evacuation pass it starts are the operator's
    await t.http.post(`/api/v1/hosts/${hosts[1].id}/maintenance`).set(as(ops.token)).expect(202);
    const [requested] = await events({ type: 'host.maintenance.requested', subjectId: hosts[1].id });
    expect(requested.actor).toEqual(opsActor);
    const evacuation = await events({ type: 'migration.queued', clusterId });
    const moved = evacuation.filter((e) => e.subjectId !== migration.id);
    expect(moved.length).toBeGreaterThan(0);
    for (const e of moved) expect(e.actor).toEqual(opsActor);

    await t.http.delete(`/api/v1/tokens/${ops.id}`).set(as(admin.token)).expect(200);
    const [revoked] = await events({ type: 'token.revoked', subjectId: ops.id });
    // the revoked token keeps its name in the events it made, and the revocation is the admin's
    expect(revoked.actor).toEqual(adminActor);
    expect((await events({ type: 'policy.changed', clusterId }))[0].actor).toEqual(opsActor);
  }, 60_000);

  it('names who cancelled a running migration, though the engine records its end', async () => {
    const adminActor = { type: 'token', id: admin.id, name: 'first admin', role: 'admin' };
    const migration = (
      await t.http.post('/api/v1/migrations').set(as(admin.token)).send({ vmId: bigVmId, targetHostId: hosts[0].id }).expect(201)
    ).body;
    await waitFor(
      async () => (await t.http.get(`/api/v1/migrations/${migration.id}`).set(as(admin.token)).expect(200)).body.state === 'running',
      20_000,
    );
    const res = await t.http.post(`/api/v1/migrations/${migration.id}/cancel`).set(as(admin.token));
    expect([200, 202]).toContain(res.status);
    const [requested] = await events({ type: 'migration.cancel-requested', subjectId: migration.id });
    expect(requested.actor).toEqual(adminActor);
    await waitFor(async () => (await events({ type: 'migration.cancelled', subjectId: migration.id })).length === 1, 20_000);
    expect((await events({ type: 'migration.cancelled', subjectId: migration.id }))[0].actor).toBeNull();
  }, 60_000);

  it('shows the actor as part of every event in the list, null for background work', async () => {
    const page = (await t.http.get('/api/v1/events').set(as(admin.token)).query({ limit: 200 }).expect(200)).body;
    expect(page.items.length).toBeGreaterThan(5);
    for (const item of page.items) {
      expect(Object.keys(item)).toContain('actor');
      expect([null, 'local', 'token']).toContain(item.actor === null ? null : item.actor.type);
    }
  });
});
