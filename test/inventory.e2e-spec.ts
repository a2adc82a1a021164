// Round trips through the inventory and rules API: create, read, list, update, delete, and the
// 404 / 409 / 422 answers an operator meets when a request does not fit what is stored.
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Response } from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createCluster, createHost, createVm, unique } from './helpers/fixtures';
import { createTestApp, removeTempDir, TestApp } from './helpers/test-app';

const API = '/api/v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const RESOURCES = ['clusters', 'hosts', 'vms', 'groups', 'rules'] as const;

/** An error answer: problem+json with the RFC 9457 members, and the faulty field named when there is one. */
function expectProblem(res: Response, status: number, field?: string): void {
  const fields = ((res.body?.errors ?? []) as { field: string }[]).map((e) => e.field);
  // One object, so that a failure prints the whole answer.
  expect({ status: res.status, contentType: res.headers['content-type'], body: res.body }).toMatchObject({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
    body: { type: expect.any(String), title: expect.any(String), status, detail: expect.stringMatching(/\S/) },
  });
  if (field !== undefined) expect({ fields, detail: res.body.detail }).toMatchObject({ fields: expect.arrayContaining([field]) });
}

function expectTimestamps(body: { createdAt: string; updatedAt: string }): void {
  expect(body.createdAt).toMatch(ISO_DATE);
  expect(body.updatedAt).toMatch(ISO_DATE);
  expect(Date.parse(body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(body.createdAt));
}

async function createGroup(http: TestAgent, clusterId: string, kind: 'vm' | 'host', memberIds: string[] = [], name = unique('group')) {
  const res = await http.post(`${API}/groups`).send({ clusterId, name, kind, memberIds }).expect(201);
  return res.body as { id: string; name: string; memberIds: string[]; version: number };
}

async function createRule(http: TestAgent, body: Record<string, unknown>) {
  const res = await http
    .post(`${API}/rules`)
    .send({ name: unique('rule'), enforcement: 'hard', ...body })
    .expect(201);
  return res.body as { id: string; name: string; version: number };
}

describe('inventory API', () => {
  let t: TestApp;
  let http: TestAgent;

  beforeAll(async () => {
    t = await createTestApp();
    http = t.http;
  });
  afterAll(async () => {
    await t?.close();
    if (t) removeTempDir(dirname(t.databasePath));
  });

  describe('round trips', () => {
    it('clusters: create, read, list, update (version bumps), stale update refused, delete', async () => {
      const name = unique('prod-east');
      const created = await http.post(`${API}/clusters`).send({ name, description: 'first site' }).expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        name,
        description: 'first site',
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expectTimestamps(created.body);
      const id = created.body.id;

      expect((await http.get(`${API}/clusters/${id}`).expect(200)).body).toEqual(created.body);
      const listed = await http.get(`${API}/clusters`).query({ name }).expect(200);
      expect(listed.body).toEqual({ items: [created.body], total: 1, limit: 50, offset: 0 });

      const patched = await http
        .patch(`${API}/clusters/${id}`)
        .send({ name: `${name}-renamed`, description: 'moved', version: 1 })
        .expect(200);
      expect(patched.body).toMatchObject({
        id,
        name: `${name}-renamed`,
        description: 'moved',
        version: 2,
        createdAt: created.body.createdAt,
      });
      expectTimestamps(patched.body);
      expect((await http.get(`${API}/clusters/${id}`).expect(200)).body).toEqual(patched.body);
      // The old name is free again, the new one is found by the name filter.
      expect((await http.get(`${API}/clusters`).query({ name }).expect(200)).body.total).toBe(0);
      expect(
        (
          await http
            .get(`${API}/clusters`)
            .query({ name: `${name}-renamed` })
            .expect(200)
        ).body.total,
      ).toBe(1);

      expectProblem(await http.patch(`${API}/clusters/${id}`).send({ description: 'lost update', version: 1 }), 409, 'version');
      expect((await http.get(`${API}/clusters/${id}`).expect(200)).body).toMatchObject({ description: 'moved', version: 2 });

      await http.delete(`${API}/clusters/${id}`).expect(204);
      expectProblem(await http.get(`${API}/clusters/${id}`), 404);
      expectProblem(await http.delete(`${API}/clusters/${id}`), 404);
    });

    it('hosts: create with defaults, read, list, update (version bumps), stale update refused, delete', async () => {
      const cluster = await createCluster(http);
      const name = unique('esx');
      const created = await http
        .post(`${API}/hosts`)
        .send({ clusterId: cluster.id, name, cpuCores: 32, cpuMhz: 76800, memoryMib: 524288 })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        clusterId: cluster.id,
        name,
        address: null,
        cpuCores: 32,
        cpuMhz: 76800,
        memoryMib: 524288,
        migrationGbps: 10,
        state: 'connected',
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expectTimestamps(created.body);
      const id = created.body.id;
      expect((await http.get(`${API}/hosts/${id}`).expect(200)).body).toEqual(created.body);
      expect((await http.get(`${API}/hosts`).query({ clusterId: cluster.id }).expect(200)).body).toEqual({
        items: [created.body],
        total: 1,
        limit: 50,
        offset: 0,
      });

      const patched = await http.patch(`${API}/hosts/${id}`).send({ state: 'maintenance', migrationGbps: 25.5, version: 1 }).expect(200);
      expect(patched.body.version).toBe(2);
      // A fractional bandwidth survives the round trip (a REAL column, not INTEGER).
      expect((await http.get(`${API}/hosts/${id}`).expect(200)).body).toEqual({
        ...created.body,
        state: 'maintenance',
        migrationGbps: 25.5,
        version: 2,
        updatedAt: expect.stringMatching(ISO_DATE),
      });
      await http.patch(`${API}/hosts/${id}`).send({ cpuCores: 64, version: 2 }).expect(200);
      expect((await http.get(`${API}/hosts/${id}`).expect(200)).body).toMatchObject({ cpuCores: 64, state: 'maintenance', version: 3 });

      expectProblem(await http.patch(`${API}/hosts/${id}`).send({ state: 'connected', version: 2 }), 409, 'version');
      expect((await http.get(`${API}/hosts/${id}`).expect(200)).body).toMatchObject({ state: 'maintenance', version: 3 });

      await http.delete(`${API}/hosts/${id}`).expect(204);
      expectProblem(await http.get(`${API}/hosts/${id}`), 404);
      expectProblem(await http.delete(`${API}/hosts/${id}`), 404);
    });

    it('VMs: create with defaults, read, list, update (version bumps), stale update refused, delete', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const name = unique('web');
      const created = await http
        .post(`${API}/vms`)
        .send({ clusterId: cluster.id, hostId: host.id, name, vcpus: 4, memoryMib: 8192 })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        clusterId: cluster.id,
        hostId: host.id,
        name,
        vcpus: 4,
        memoryMib: 8192,
        powerState: 'poweredOn',
        automation: 'default',
        cpuReservationMhz: 0,
        cpuLimitMhz: null,
        memoryReservationMib: 0,
        memoryLimitMib: null,
        // No platform holds a VM made through the API.
        heldBy: null,
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expectTimestamps(created.body);
      const id = created.body.id;
      expect((await http.get(`${API}/vms/${id}`).expect(200)).body).toEqual(created.body);
      expect((await http.get(`${API}/vms`).query({ hostId: host.id }).expect(200)).body).toEqual({
        items: [created.body],
        total: 1,
        limit: 50,
        offset: 0,
      });

      const patched = await http
        .patch(`${API}/vms/${id}`)
        .send({
          memoryMib: 16384,
          powerState: 'poweredOff',
          automation: 'manual',
          cpuLimitMhz: 4000,
          memoryReservationMib: 2048,
          version: 1,
        })
        .expect(200);
      expect(patched.body.version).toBe(2);
      expect((await http.get(`${API}/vms/${id}`).expect(200)).body).toEqual({
        ...created.body,
        memoryMib: 16384,
        powerState: 'poweredOff',
        automation: 'manual',
        cpuLimitMhz: 4000,
        memoryReservationMib: 2048,
        version: 2,
        updatedAt: expect.stringMatching(ISO_DATE),
      });
      // null lifts a limit again.
      await http.patch(`${API}/vms/${id}`).send({ cpuLimitMhz: null, version: 2 }).expect(200);
      expect((await http.get(`${API}/vms/${id}`).expect(200)).body).toMatchObject({ cpuLimitMhz: null, memoryMib: 16384, version: 3 });

      expectProblem(await http.patch(`${API}/vms/${id}`).send({ vcpus: 8, version: 1 }), 409, 'version');
      expect((await http.get(`${API}/vms/${id}`).expect(200)).body).toMatchObject({ vcpus: 4, version: 3 });

      await http.delete(`${API}/vms/${id}`).expect(204);
      expectProblem(await http.get(`${API}/vms/${id}`), 404);
      expectProblem(await http.delete(`${API}/vms/${id}`), 404);
      // The host is free of VMs now and can go.
      await http.delete(`${API}/hosts/${host.id}`).expect(204);
    });

    it('groups: create with members, read, list, update members (version bumps), stale update refused, delete', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const [a, b, c] = [
        await createVm(http, cluster.id, host.id),
        await createVm(http, cluster.id, host.id),
        await createVm(http, cluster.id, host.id),
      ];
      const name = unique('db-tier');
      const created = await http
        .post(`${API}/groups`)
        .send({ clusterId: cluster.id, name, kind: 'vm', memberIds: [a.id, b.id] })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        clusterId: cluster.id,
        name,
        kind: 'vm',
        memberIds: [a.id, b.id].sort(),
        // Made through the API: no platform owns it.
        source: null,
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expectTimestamps(created.body);
      const id = created.body.id;
      expect((await http.get(`${API}/groups/${id}`).expect(200)).body).toEqual(created.body);
      expect((await http.get(`${API}/groups`).query({ clusterId: cluster.id }).expect(200)).body).toEqual({
        items: [created.body],
        total: 1,
        limit: 50,
        offset: 0,
      });

      const patched = await http
        .patch(`${API}/groups/${id}`)
        .send({ memberIds: [c.id], version: 1 })
        .expect(200);
      expect(patched.body).toMatchObject({ id, name, memberIds: [c.id], version: 2 });
      expect((await http.get(`${API}/groups/${id}`).expect(200)).body).toMatchObject({ memberIds: [c.id], version: 2 });
      const renamed = await http
        .patch(`${API}/groups/${id}`)
        .send({ name: `${name}-2`, version: 2 })
        .expect(200);
      expect(renamed.body).toMatchObject({ name: `${name}-2`, memberIds: [c.id], version: 3 });

      expectProblem(await http.patch(`${API}/groups/${id}`).send({ memberIds: [], version: 2 }), 409, 'version');
      expect((await http.get(`${API}/groups/${id}`).expect(200)).body).toMatchObject({ memberIds: [c.id], version: 3 });

      await http.delete(`${API}/groups/${id}`).expect(204);
      expectProblem(await http.get(`${API}/groups/${id}`), 404);
      expectProblem(await http.delete(`${API}/groups/${id}`), 404);
      // The VMs themselves are untouched by the group's deletion.
      await http.get(`${API}/vms/${a.id}`).expect(200);
    });

    it('host groups hold host ids', async () => {
      const cluster = await createCluster(http);
      const [h1, h2] = [await createHost(http, cluster.id), await createHost(http, cluster.id)];
      const group = await createGroup(http, cluster.id, 'host', [h2.id, h1.id]);
      expect(group).toMatchObject({ kind: 'host', memberIds: [h1.id, h2.id].sort() });
    });

    it('rules: create (affinity and vm-host), read, list, stale update refused, delete', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vmGroup = await createGroup(http, cluster.id, 'vm', [(await createVm(http, cluster.id, host.id)).id]);
      const hostGroup = await createGroup(http, cluster.id, 'host', [host.id]);
      const name = unique('keep-db-apart');
      const created = await http
        .post(`${API}/rules`)
        .send({ clusterId: cluster.id, name, kind: 'anti-affinity', vmGroupId: vmGroup.id, enforcement: 'hard' })
        .expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(UUID),
        clusterId: cluster.id,
        name,
        kind: 'anti-affinity',
        vmGroupId: vmGroup.id,
        hostGroupId: null,
        relation: null,
        enforcement: 'hard',
        enabled: true,
        source: null,
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expectTimestamps(created.body);
      const vmHost = await http
        .post(`${API}/rules`)
        .send({
          clusterId: cluster.id,
          name: unique('pin'),
          kind: 'vm-host',
          vmGroupId: vmGroup.id,
          hostGroupId: hostGroup.id,
          relation: 'run-on',
          enforcement: 'soft',
          enabled: false,
        })
        .expect(201);
      expect(vmHost.body).toMatchObject({
        kind: 'vm-host',
        hostGroupId: hostGroup.id,
        relation: 'run-on',
        enforcement: 'soft',
        enabled: false,
        version: 1,
      });

      const id = created.body.id;
      expect((await http.get(`${API}/rules/${id}`).expect(200)).body).toEqual(created.body);
      const listed = await http.get(`${API}/rules`).query({ clusterId: cluster.id }).expect(200);
      expect(listed.body.total).toBe(2);
      expect(listed.body.items.map((r: { id: string }) => r.id).sort()).toEqual([id, vmHost.body.id].sort());

      expectProblem(await http.patch(`${API}/rules/${id}`).send({ enabled: false, version: 7 }), 409, 'version');
      expect((await http.get(`${API}/rules/${id}`).expect(200)).body).toEqual(created.body);

      await http.delete(`${API}/rules/${id}`).expect(204);
      expectProblem(await http.get(`${API}/rules/${id}`), 404);
      expectProblem(await http.delete(`${API}/rules/${id}`), 404);
    });

    it('rules: PATCH changes name, enforcement and enabled, and bumps the version', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vmGroup = await createGroup(http, cluster.id, 'vm', [(await createVm(http, cluster.id, host.id)).id]);
      const hostGroup = await createGroup(http, cluster.id, 'host', [host.id]);
      const affinity = await createRule(http, { clusterId: cluster.id, kind: 'affinity', vmGroupId: vmGroup.id });
      const pin = await createRule(http, {
        clusterId: cluster.id,
        kind: 'vm-host',
        vmGroupId: vmGroup.id,
        hostGroupId: hostGroup.id,
        relation: 'run-on',
      });

      const patched = await http.patch(`${API}/rules/${affinity.id}`).send({ enforcement: 'soft', enabled: false, version: 1 });
      expect({ status: patched.status, body: patched.body }).toMatchObject({
        status: 200,
        body: { enforcement: 'soft', enabled: false, version: 2 },
      });
      expect((await http.get(`${API}/rules/${affinity.id}`).expect(200)).body).toMatchObject({
        kind: 'affinity',
        vmGroupId: vmGroup.id,
        enforcement: 'soft',
        enabled: false,
        version: 2,
      });

      const renamed = await http.patch(`${API}/rules/${pin.id}`).send({ name: 'pin-renamed', relation: 'not-run-on' });
      expect({ status: renamed.status, body: renamed.body }).toMatchObject({
        status: 200,
        body: { name: 'pin-renamed', relation: 'not-run-on', version: 2 },
      });
    });

    it('rules: PATCH turns a vm-host rule into an affinity rule when hostGroupId and relation are cleared', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vmGroup = await createGroup(http, cluster.id, 'vm', [(await createVm(http, cluster.id, host.id)).id]);
      const hostGroup = await createGroup(http, cluster.id, 'host', [host.id]);
      const pin = await createRule(http, {
        clusterId: cluster.id,
        kind: 'vm-host',
        vmGroupId: vmGroup.id,
        hostGroupId: hostGroup.id,
        relation: 'run-on',
      });

      // Left half-done (a host group on an affinity rule) it is refused, naming the field.
      expectProblem(await http.patch(`${API}/rules/${pin.id}`).send({ kind: 'affinity' }), 400, 'hostGroupId');
      const res = await http.patch(`${API}/rules/${pin.id}`).send({ kind: 'affinity', hostGroupId: null, relation: null });
      expect({ status: res.status, body: res.body }).toMatchObject({
        status: 200,
        body: { kind: 'affinity', hostGroupId: null, relation: null },
      });
    });

    // A client that PATCHes one field must get the whole resource back, as GET gives it.
    it.each(RESOURCES)('PATCH /%s/:id answers with the complete updated resource', async (resource) => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vm = await createVm(http, cluster.id, host.id);
      const vmGroup = await createGroup(http, cluster.id, 'vm', [vm.id]);
      const ids: Record<(typeof RESOURCES)[number], [string, Record<string, unknown>]> = {
        clusters: [cluster.id, { description: 'patched' }],
        hosts: [host.id, { state: 'maintenance' }],
        vms: [vm.id, { automation: 'disabled' }],
        groups: [vmGroup.id, { name: unique('patched') }],
        rules: [(await createRule(http, { clusterId: cluster.id, kind: 'affinity', vmGroupId: vmGroup.id })).id, { enabled: false }],
      };
      const [id, change] = ids[resource];
      const patched = await http.patch(`${API}/${resource}/${id}`).send(change);
      const read = await http.get(`${API}/${resource}/${id}`).expect(200);
      expect({ status: patched.status, body: patched.body }).toEqual({ status: 200, body: read.body });
      expect(read.body).toMatchObject({ ...change, version: 2 });
    });
  });

  describe('lists: filters and pagination', () => {
    let a: { id: string; name: string };
    let b: { id: string; name: string };
    const hostIds: string[] = [];
    const vmIds: string[] = [];

    beforeAll(async () => {
      a = await createCluster(http, unique('list-a'));
      b = await createCluster(http, unique('list-b'));
      for (let i = 0; i < 5; i++) {
        hostIds.push((await createHost(http, a.id, { name: `a-h${i}`, state: i >= 3 ? 'maintenance' : 'connected' })).id);
      }
      await createHost(http, b.id, { name: 'a-h0' });
      const powerStates = ['poweredOn', 'poweredOff', 'poweredOn', 'poweredOff', 'poweredOn', 'poweredOn', 'suspended'];
      for (let i = 0; i < powerStates.length; i++) {
        vmIds.push((await createVm(http, a.id, hostIds[i < 4 ? 0 : 1], { name: `vm-${i}`, powerState: powerStates[i] })).id);
      }
      const g1 = await createGroup(http, a.id, 'vm', vmIds.slice(0, 2), 'g-vm-1');
      await createGroup(http, a.id, 'vm', vmIds.slice(2, 4), 'g-vm-2');
      const hg = await createGroup(http, a.id, 'host', hostIds.slice(0, 2), 'g-host');
      await createRule(http, { clusterId: a.id, name: 'r-aff', kind: 'affinity', vmGroupId: g1.id });
      await createRule(http, { clusterId: a.id, name: 'r-anti', kind: 'anti-affinity', vmGroupId: g1.id });
      await createRule(http, { clusterId: a.id, name: 'r-pin', kind: 'vm-host', vmGroupId: g1.id, hostGroupId: hg.id, relation: 'run-on' });
    });

    const names = (res: Response) => res.body.items.map((i: { name: string }) => i.name);

    it('hosts by cluster, sorted by name, with total across pages and working limit/offset', async () => {
      const all = await http.get(`${API}/hosts`).query({ clusterId: a.id }).expect(200);
      expect(all.body).toMatchObject({ total: 5, limit: 50, offset: 0 });
      expect(names(all)).toEqual(['a-h0', 'a-h1', 'a-h2', 'a-h3', 'a-h4']);

      const pages = [];
      for (const offset of [0, 2, 4]) {
        const page = await http.get(`${API}/hosts`).query({ clusterId: a.id, limit: 2, offset }).expect(200);
        expect(page.body).toMatchObject({ total: 5, limit: 2, offset });
        pages.push(...page.body.items);
      }
      expect(pages).toEqual(all.body.items);
      const beyond = await http.get(`${API}/hosts`).query({ clusterId: a.id, limit: 2, offset: 10 }).expect(200);
      expect(beyond.body).toEqual({ items: [], total: 5, limit: 2, offset: 10 });
    });

    it('hosts by state and by name', async () => {
      expect(names(await http.get(`${API}/hosts`).query({ clusterId: a.id, state: 'maintenance' }).expect(200))).toEqual(['a-h3', 'a-h4']);
      const connected = await http.get(`${API}/hosts`).query({ clusterId: a.id, state: 'connected', limit: 1 }).expect(200);
      expect(connected.body).toMatchObject({ total: 3, limit: 1 });
      expect(connected.body.items).toHaveLength(1);
      // The same name lives in both clusters; the name filter alone finds both, with clusterId one.
      const byName = await http.get(`${API}/hosts`).query({ name: 'a-h0' }).expect(200);
      expect(byName.body.items.map((h: { clusterId: string }) => h.clusterId).sort()).toEqual([a.id, b.id].sort());
      expect((await http.get(`${API}/hosts`).query({ name: 'a-h0', clusterId: b.id }).expect(200)).body.total).toBe(1);
      expect((await http.get(`${API}/hosts`).query({ name: 'a-h' }).expect(200)).body.total).toBe(0);
    });

    it('a list shows each host and VM exactly as its own GET does, as JSON', async () => {
      // A fractional link speed and limits set: the values a page built in SQL prints differently from a view.
      await http.patch(`${API}/hosts/${hostIds[2]}`).send({ migrationGbps: 12.345678901234567, version: 1 }).expect(200);
      const vm = (await http.get(`${API}/vms/${vmIds[5]}`).expect(200)).body;
      await http
        .patch(`${API}/vms/${vmIds[5]}`)
        .send({ cpuLimitMhz: 3000, memoryLimitMib: 2048, automation: 'disabled', version: vm.version })
        .expect(200);
      for (const kind of ['hosts', 'vms']) {
        const page = await http
          .get(`${API}/${kind}`)
          .query({ clusterId: a.id })
          .expect('Content-Type', /^application\/json/)
          .expect(200);
        expect(page.body.items.length).toBeGreaterThan(0);
        for (const item of page.body.items) expect((await http.get(`${API}/${kind}/${item.id}`).expect(200)).body).toEqual(item);
      }
      const host = (await http.get(`${API}/hosts`).query({ clusterId: a.id, name: 'a-h2' }).expect(200)).body.items[0];
      expect(host.migrationGbps).toBe(12.345678901234567);
    });

    it('VMs by cluster, host, power state and name', async () => {
      expect((await http.get(`${API}/vms`).query({ clusterId: a.id }).expect(200)).body.total).toBe(7);
      expect((await http.get(`${API}/vms`).query({ clusterId: b.id }).expect(200)).body).toEqual({
        items: [],
        total: 0,
        limit: 50,
        offset: 0,
      });
      expect(names(await http.get(`${API}/vms`).query({ hostId: hostIds[0] }).expect(200))).toEqual(['vm-0', 'vm-1', 'vm-2', 'vm-3']);
      expect(names(await http.get(`${API}/vms`).query({ clusterId: a.id, powerState: 'poweredOff' }).expect(200))).toEqual([
        'vm-1',
        'vm-3',
      ]);
      expect(names(await http.get(`${API}/vms`).query({ powerState: 'suspended', clusterId: a.id }).expect(200))).toEqual(['vm-6']);
      expect(names(await http.get(`${API}/vms`).query({ hostId: hostIds[1], powerState: 'poweredOn' }).expect(200))).toEqual([
        'vm-4',
        'vm-5',
      ]);
      const byName = await http.get(`${API}/vms`).query({ clusterId: a.id, name: 'vm-2' }).expect(200);
      expect(byName.body).toMatchObject({ total: 1, items: [{ id: vmIds[2], name: 'vm-2' }] });
      const page = await http.get(`${API}/vms`).query({ hostId: hostIds[1], limit: 2, offset: 1 }).expect(200);
      expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
      expect(names(page)).toEqual(['vm-5', 'vm-6']);
      // A host with no VMs: an empty page, not an error.
      expect((await http.get(`${API}/vms`).query({ hostId: hostIds[4] }).expect(200)).body.total).toBe(0);
    });

    it('groups and rules by kind and name', async () => {
      expect(names(await http.get(`${API}/groups`).query({ clusterId: a.id, kind: 'vm' }).expect(200))).toEqual(['g-vm-1', 'g-vm-2']);
      expect(names(await http.get(`${API}/groups`).query({ clusterId: a.id, kind: 'host' }).expect(200))).toEqual(['g-host']);
      expect((await http.get(`${API}/groups`).query({ clusterId: a.id, name: 'g-vm-2' }).expect(200)).body.total).toBe(1);
      const groupPage = await http.get(`${API}/groups`).query({ clusterId: a.id, limit: 1, offset: 1 }).expect(200);
      expect(groupPage.body).toMatchObject({ total: 3, limit: 1, offset: 1 });
      expect(names(groupPage)).toEqual(['g-vm-1']);

      expect(names(await http.get(`${API}/rules`).query({ clusterId: a.id }).expect(200))).toEqual(['r-aff', 'r-anti', 'r-pin']);
      expect(names(await http.get(`${API}/rules`).query({ clusterId: a.id, kind: 'vm-host' }).expect(200))).toEqual(['r-pin']);
      expect(names(await http.get(`${API}/rules`).query({ clusterId: a.id, kind: 'anti-affinity' }).expect(200))).toEqual(['r-anti']);
      expect((await http.get(`${API}/rules`).query({ clusterId: b.id }).expect(200)).body.total).toBe(0);
      const rulePage = await http.get(`${API}/rules`).query({ clusterId: a.id, limit: 2, offset: 2 }).expect(200);
      expect(rulePage.body).toMatchObject({ total: 3, limit: 2, offset: 2 });
      expect(names(rulePage)).toEqual(['r-pin']);
    });

    it('clusters by name, and pages of clusters count them all', async () => {
      expect((await http.get(`${API}/clusters`).query({ name: a.name }).expect(200)).body).toMatchObject({
        total: 1,
        items: [{ id: a.id }],
      });
      const all = await http.get(`${API}/clusters`).query({ limit: 1000 }).expect(200);
      expect(all.body.total).toBeGreaterThanOrEqual(2);
      expect(all.body.items).toHaveLength(all.body.total);
      const second = await http.get(`${API}/clusters`).query({ limit: 1, offset: 1 }).expect(200);
      expect(second.body).toEqual({ items: [all.body.items[1]], total: all.body.total, limit: 1, offset: 1 });
    });
  });

  describe('unknown and malformed ids', () => {
    it.each(RESOURCES)('GET, PATCH and DELETE /%s/:id answer 404 for a UUID that does not exist', async (resource) => {
      const id = randomUUID();
      for (const res of [
        await http.get(`${API}/${resource}/${id}`),
        await http.patch(`${API}/${resource}/${id}`).send({}),
        await http.delete(`${API}/${resource}/${id}`),
      ]) {
        expectProblem(res, 404);
        expect(res.body.detail).toContain(id);
      }
    });

    it.each(RESOURCES)('GET, PATCH and DELETE /%s/:id answer 400 naming id when it is not a UUID', async (resource) => {
      for (const bad of ['not-a-uuid', '12345', `${randomUUID()}x`]) {
        expectProblem(await http.get(`${API}/${resource}/${bad}`), 400, 'id');
        expectProblem(await http.patch(`${API}/${resource}/${bad}`).send({}), 400, 'id');
        expectProblem(await http.delete(`${API}/${resource}/${bad}`), 400, 'id');
      }
    });

    it('inventory sync of an unknown cluster is a 404, of a malformed id a 400 naming id', async () => {
      expectProblem(await http.put(`${API}/clusters/${randomUUID()}/inventory`).send({ hosts: [], vms: [] }), 404);
      expectProblem(await http.put(`${API}/clusters/nope/inventory`).send({ hosts: [], vms: [] }), 400, 'id');
    });
  });

  describe('409 conflicts', () => {
    it('cluster names are unique globally, on create and on rename', async () => {
      const first = await createCluster(http);
      const other = await createCluster(http);
      expectProblem(await http.post(`${API}/clusters`).send({ name: first.name }), 409, 'name');
      // Surrounding spaces are trimmed, so they do not make a different name.
      expectProblem(await http.post(`${API}/clusters`).send({ name: `  ${first.name} ` }), 409, 'name');
      expectProblem(await http.patch(`${API}/clusters/${other.id}`).send({ name: first.name }), 409, 'name');
      expect((await http.get(`${API}/clusters/${other.id}`).expect(200)).body).toMatchObject({ name: other.name, version: 1 });
      expect((await http.get(`${API}/clusters`).query({ name: first.name }).expect(200)).body.total).toBe(1);
    });

    it('host, VM, group and rule names are unique within a cluster, free across clusters', async () => {
      const one = await createCluster(http);
      const two = await createCluster(http);
      const h1 = await createHost(http, one.id, { name: 'esx-01' });
      const h2 = await createHost(http, two.id, { name: 'esx-01' });
      expectProblem(
        await http.post(`${API}/hosts`).send({ clusterId: one.id, name: 'esx-01', cpuCores: 8, cpuMhz: 16000, memoryMib: 65536 }),
        409,
        'name',
      );
      const h1b = await createHost(http, one.id, { name: 'esx-02' });
      expectProblem(await http.patch(`${API}/hosts/${h1b.id}`).send({ name: 'esx-01' }), 409, 'name');
      expect((await http.get(`${API}/hosts`).query({ clusterId: one.id }).expect(200)).body.total).toBe(2);

      const v1 = await createVm(http, one.id, h1.id, { name: 'web-01' });
      await createVm(http, two.id, h2.id, { name: 'web-01' });
      expectProblem(
        await http.post(`${API}/vms`).send({ clusterId: one.id, hostId: h1b.id, name: 'web-01', vcpus: 1, memoryMib: 512 }),
        409,
        'name',
      );
      const v2 = await createVm(http, one.id, h1.id, { name: 'web-02' });
      expectProblem(await http.patch(`${API}/vms/${v2.id}`).send({ name: 'web-01' }), 409, 'name');
      expect((await http.get(`${API}/vms`).query({ clusterId: one.id }).expect(200)).body.total).toBe(2);

      const g1 = await createGroup(http, one.id, 'vm', [v1.id], 'tier');
      await createGroup(http, two.id, 'vm', [], 'tier');
      expectProblem(await http.post(`${API}/groups`).send({ clusterId: one.id, name: 'tier', kind: 'host' }), 409, 'name');

      await createRule(http, { clusterId: one.id, name: 'apart', kind: 'anti-affinity', vmGroupId: g1.id });
      expectProblem(
        await http.post(`${API}/rules`).send({ clusterId: one.id, name: 'apart', kind: 'affinity', vmGroupId: g1.id, enforcement: 'soft' }),
        409,
        'name',
      );
      expect((await http.get(`${API}/rules`).query({ clusterId: one.id }).expect(200)).body.total).toBe(1);
    });

    it('a host that still runs VMs is not deleted', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vm = await createVm(http, cluster.id, host.id);
      expectProblem(await http.delete(`${API}/hosts/${host.id}`), 409);
      expect((await http.get(`${API}/hosts/${host.id}`).expect(200)).body.version).toBe(1);
      expect((await http.get(`${API}/vms/${vm.id}`).expect(200)).body.hostId).toBe(host.id);
      await http.delete(`${API}/vms/${vm.id}`).expect(204);
      await http.delete(`${API}/hosts/${host.id}`).expect(204);
    });

    it('a group that a rule uses is not deleted (as VM group or as host group)', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vmGroup = await createGroup(http, cluster.id, 'vm', [(await createVm(http, cluster.id, host.id)).id]);
      const hostGroup = await createGroup(http, cluster.id, 'host', [host.id]);
      const rule = await createRule(http, {
        clusterId: cluster.id,
        kind: 'vm-host',
        vmGroupId: vmGroup.id,
        hostGroupId: hostGroup.id,
        relation: 'not-run-on',
      });
      const inUse = await http.delete(`${API}/groups/${vmGroup.id}`);
      expectProblem(inUse, 409);
      expect(inUse.body.detail).toContain(rule.name);
      expectProblem(await http.delete(`${API}/groups/${hostGroup.id}`), 409);
      await http.get(`${API}/groups/${vmGroup.id}`).expect(200);
      await http.get(`${API}/groups/${hostGroup.id}`).expect(200);
      await http.delete(`${API}/rules/${rule.id}`).expect(204);
      await http.delete(`${API}/groups/${vmGroup.id}`).expect(204);
      await http.delete(`${API}/groups/${hostGroup.id}`).expect(204);
    });

    it('a cluster that still has hosts is not deleted; once empty it goes, with its groups and rules', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const vm = await createVm(http, cluster.id, host.id);
      const group = await createGroup(http, cluster.id, 'vm', [vm.id]);
      const rule = await createRule(http, { clusterId: cluster.id, kind: 'affinity', vmGroupId: group.id });

      expectProblem(await http.delete(`${API}/clusters/${cluster.id}`), 409);
      await http.delete(`${API}/vms/${vm.id}`).expect(204);
      expectProblem(await http.delete(`${API}/clusters/${cluster.id}`), 409);
      await http.get(`${API}/clusters/${cluster.id}`).expect(200);
      await http.get(`${API}/hosts/${host.id}`).expect(200);

      await http.delete(`${API}/hosts/${host.id}`).expect(204);
      await http.delete(`${API}/clusters/${cluster.id}`).expect(204);
      expectProblem(await http.get(`${API}/clusters/${cluster.id}`), 404);
      expectProblem(await http.get(`${API}/groups/${group.id}`), 404);
      expectProblem(await http.get(`${API}/rules/${rule.id}`), 404);
    });
  });

  describe('422: references to the wrong cluster or to nothing', () => {
    let one: { id: string };
    let two: { id: string };
    let hostOne: { id: string };
    let hostTwo: { id: string };
    let vmOne: { id: string };
    let vmTwo: { id: string };

    beforeAll(async () => {
      one = await createCluster(http);
      two = await createCluster(http);
      hostOne = await createHost(http, one.id);
      hostTwo = await createHost(http, two.id);
      vmOne = await createVm(http, one.id, hostOne.id);
      vmTwo = await createVm(http, two.id, hostTwo.id);
    });

    it('a VM on a host of another cluster, or on a host that does not exist, is refused naming hostId', async () => {
      const name = unique('stray');
      expectProblem(
        await http.post(`${API}/vms`).send({ clusterId: one.id, hostId: hostTwo.id, name, vcpus: 1, memoryMib: 512 }),
        422,
        'hostId',
      );
      expectProblem(
        await http.post(`${API}/vms`).send({ clusterId: one.id, hostId: randomUUID(), name, vcpus: 1, memoryMib: 512 }),
        422,
        'hostId',
      );
      expect((await http.get(`${API}/vms`).query({ name }).expect(200)).body.total).toBe(0);
    });

    it('a host, VM, group or rule in a cluster that does not exist is refused naming clusterId', async () => {
      const ghost = randomUUID();
      const name = unique('orphan');
      expectProblem(
        await http.post(`${API}/hosts`).send({ clusterId: ghost, name, cpuCores: 1, cpuMhz: 2000, memoryMib: 1024 }),
        422,
        'clusterId',
      );
      expectProblem(
        await http.post(`${API}/vms`).send({ clusterId: ghost, hostId: hostOne.id, name, vcpus: 1, memoryMib: 512 }),
        422,
        'clusterId',
      );
      expectProblem(await http.post(`${API}/groups`).send({ clusterId: ghost, name, kind: 'vm' }), 422, 'clusterId');
      const group = await createGroup(http, one.id, 'vm');
      expectProblem(
        await http.post(`${API}/rules`).send({ clusterId: ghost, name, kind: 'affinity', vmGroupId: group.id, enforcement: 'hard' }),
        422,
        'clusterId',
      );
      for (const resource of ['hosts', 'vms', 'groups', 'rules']) {
        expect((await http.get(`${API}/${resource}`).query({ name }).expect(200)).body.total).toBe(0);
      }
    });

    it('group members must be of the group kind and of its cluster', async () => {
      const name = unique('mixed');
      expectProblem(
        await http.post(`${API}/groups`).send({ clusterId: one.id, name, kind: 'vm', memberIds: [vmOne.id, vmTwo.id] }),
        422,
        'memberIds',
      );
      expectProblem(
        await http.post(`${API}/groups`).send({ clusterId: one.id, name, kind: 'vm', memberIds: [hostOne.id] }),
        422,
        'memberIds',
      );
      expectProblem(
        await http.post(`${API}/groups`).send({ clusterId: one.id, name, kind: 'host', memberIds: [vmOne.id] }),
        422,
        'memberIds',
      );
      expectProblem(
        await http.post(`${API}/groups`).send({ clusterId: one.id, name, kind: 'host', memberIds: [hostTwo.id] }),
        422,
        'memberIds',
      );
      expectProblem(
        await http.post(`${API}/groups`).send({ clusterId: one.id, name, kind: 'vm', memberIds: [randomUUID()] }),
        422,
        'memberIds',
      );
      expect((await http.get(`${API}/groups`).query({ name }).expect(200)).body.total).toBe(0);

      const group = await createGroup(http, one.id, 'vm', [vmOne.id]);
      expectProblem(await http.patch(`${API}/groups/${group.id}`).send({ memberIds: [vmOne.id, vmTwo.id] }), 422, 'memberIds');
      expect((await http.get(`${API}/groups/${group.id}`).expect(200)).body).toMatchObject({ memberIds: [vmOne.id], version: 1 });
    });

    it('a rule refers to a VM group (and a host group) of its own cluster', async () => {
      const vmGroupOne = await createGroup(http, one.id, 'vm', [vmOne.id]);
      const hostGroupOne = await createGroup(http, one.id, 'host', [hostOne.id]);
      const vmGroupTwo = await createGroup(http, two.id, 'vm', [vmTwo.id]);
      const hostGroupTwo = await createGroup(http, two.id, 'host', [hostTwo.id]);
      const name = unique('misref');
      const rule = (body: Record<string, unknown>) =>
        http.post(`${API}/rules`).send({ clusterId: one.id, name, enforcement: 'hard', ...body });

      expectProblem(await rule({ kind: 'affinity', vmGroupId: vmGroupTwo.id }), 422, 'vmGroupId');
      expectProblem(await rule({ kind: 'anti-affinity', vmGroupId: hostGroupOne.id }), 422, 'vmGroupId');
      expectProblem(await rule({ kind: 'affinity', vmGroupId: randomUUID() }), 422, 'vmGroupId');
      expectProblem(
        await rule({ kind: 'vm-host', vmGroupId: vmGroupOne.id, hostGroupId: vmGroupOne.id, relation: 'run-on' }),
        422,
        'hostGroupId',
      );
      expectProblem(
        await rule({ kind: 'vm-host', vmGroupId: vmGroupOne.id, hostGroupId: hostGroupTwo.id, relation: 'run-on' }),
        422,
        'hostGroupId',
      );
      expect((await http.get(`${API}/rules`).query({ name }).expect(200)).body.total).toBe(0);
    });

    it('vm-host rules, and only they, carry hostGroupId and relation (400 naming the field)', async () => {
      const vmGroup = await createGroup(http, one.id, 'vm', [vmOne.id]);
      const hostGroup = await createGroup(http, one.id, 'host', [hostOne.id]);
      const name = unique('shape');
      const rule = (body: Record<string, unknown>) =>
        http.post(`${API}/rules`).send({ clusterId: one.id, name, enforcement: 'soft', vmGroupId: vmGroup.id, ...body });

      expectProblem(await rule({ kind: 'vm-host', relation: 'run-on' }), 400, 'hostGroupId');
      expectProblem(await rule({ kind: 'vm-host', hostGroupId: hostGroup.id }), 400, 'relation');
      expectProblem(await rule({ kind: 'affinity', relation: 'run-on' }), 400, 'relation');
      expectProblem(await rule({ kind: 'anti-affinity', hostGroupId: hostGroup.id }), 400, 'hostGroupId');
      expect((await http.get(`${API}/rules`).query({ name }).expect(200)).body.total).toBe(0);
    });
  });

  describe('group membership follows the inventory', () => {
    it('deleting a VM removes it from its groups; the groups stay', async () => {
      const cluster = await createCluster(http);
      const host = await createHost(http, cluster.id);
      const [a, b] = [await createVm(http, cluster.id, host.id), await createVm(http, cluster.id, host.id)];
      const g1 = await createGroup(http, cluster.id, 'vm', [a.id, b.id]);
      const g2 = await createGroup(http, cluster.id, 'vm', [a.id]);
      await http.delete(`${API}/vms/${a.id}`).expect(204);
      expect((await http.get(`${API}/groups/${g1.id}`).expect(200)).body.memberIds).toEqual([b.id]);
      expect((await http.get(`${API}/groups/${g2.id}`).expect(200)).body.memberIds).toEqual([]);
      const listed = await http.get(`${API}/groups`).query({ clusterId: cluster.id }).expect(200);
      expect(listed.body.total).toBe(2);
    });

    it('deleting a host removes it from its host groups; the group stays', async () => {
      const cluster = await createCluster(http);
      const [h1, h2] = [await createHost(http, cluster.id), await createHost(http, cluster.id)];
      const group = await createGroup(http, cluster.id, 'host', [h1.id, h2.id]);
      await http.delete(`${API}/hosts/${h1.id}`).expect(204);
      expect((await http.get(`${API}/groups/${group.id}`).expect(200)).body.memberIds).toEqual([h2.id]);
    });
  });
});
