// Rules and groups a connector imports from its platform (vSphere DRS rules, Proxmox HA rules): what the
// operator sees through the API after each import, and that they cannot be changed here. The import is
// driven as the connector loops drive it (RulesService.importFromPlatform), on the real app.
import { RulesService } from '../src/rules/rules.service';
import type { PlatformRules } from '../src/rules/platform-rules';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, type TestApp } from './helpers/test-app';

describe('rules imported from a platform', () => {
  let t: TestApp;
  let rules: RulesService;
  let clusterId: string;
  const vms: string[] = [];
  const hosts: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { SCHEDULER_ENABLED: false } });
    rules = t.app.get(RulesService);
    clusterId = (await createCluster(t.http)).id;
    for (let i = 0; i < 2; i++) hosts.push((await createHost(t.http, clusterId, { name: `esx-${i}` })).name);
    const hostId = (await t.http.get('/api/v1/hosts').query({ clusterId })).body.items[0].id;
    for (let i = 0; i < 3; i++) vms.push((await createVm(t.http, clusterId, hostId, { name: `vm-${i}` })).name);
  });
  afterAll(() => t.close());

  const listed = async (what: 'rules' | 'groups') => (await t.http.get(`/api/v1/${what}`).query({ clusterId }).expect(200)).body.items;
  const named = async (what: 'rules' | 'groups', name: string) => (await listed(what)).find((x: { name: string }) => x.name === name);
  const idsOf = async (names: string[]) => {
    const all = [
      ...(await t.http.get('/api/v1/vms').query({ clusterId })).body.items,
      ...(await t.http.get('/api/v1/hosts').query({ clusterId })).body.items,
    ];
    return names.map((n) => all.find((x: { name: string }) => x.name === n).id).sort();
  };

  const base = (): PlatformRules => ({
    source: 'vsphere',
    groups: [
      { name: 'web', kind: 'vm', members: ['vm-0', 'vm-1', 'vm-not-synced-yet'] },
      { name: 'rack', kind: 'host', members: ['esx-1'] },
    ],
    rules: [
      { name: 'web apart', kind: 'anti-affinity', vmGroup: 'web', enforcement: 'hard', enabled: true },
      { name: 'web on rack', kind: 'vm-host', vmGroup: 'web', hostGroup: 'rack', relation: 'run-on', enforcement: 'soft', enabled: true },
      // Names a group the platform did not list: left out, not half made.
      { name: 'dangling', kind: 'affinity', vmGroup: 'nowhere', enforcement: 'hard', enabled: true },
    ],
  });

  it('shows them marked with their platform and named after it, members matched by name', async () => {
    expect(await rules.importFromPlatform(clusterId, base())).toBe(true);
    const web = await named('groups', 'vsphere/web');
    expect(web).toMatchObject({ kind: 'vm', source: 'vsphere', memberIds: await idsOf(['vm-0', 'vm-1']) });
    expect(await named('groups', 'vsphere/rack')).toMatchObject({ kind: 'host', source: 'vsphere', memberIds: await idsOf(['esx-1']) });
    const all = await listed('rules');
    expect(all.map((r: { name: string }) => r.name)).toEqual(['vsphere/web apart', 'vsphere/web on rack']);
    expect(all[1]).toMatchObject({ kind: 'vm-host', relation: 'run-on', enforcement: 'soft', source: 'vsphere', vmGroupId: web.id });
    const events = (await t.http.get('/api/v1/events').query({ clusterId, type: 'rules.imported' }).expect(200)).body.items;
    expect(events).toHaveLength(1);
  });

  it('refuses to change or delete them through the API (409 naming the platform), and does not change them', async () => {
    const rule = await named('rules', 'vsphere/web apart');
    const patch = await t.http.patch(`/api/v1/rules/${rule.id}`).send({ enabled: false });
    expect(patch.status).toBe(409);
    expect(patch.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(patch.body.detail).toMatch(/imported from vSphere and is read-only here: change it in vSphere/);
    expect((await t.http.delete(`/api/v1/rules/${rule.id}`)).status).toBe(409);
    const group = await named('groups', 'vsphere/web');
    expect((await t.http.patch(`/api/v1/groups/${group.id}`).send({ memberIds: [] })).status).toBe(409);
    expect((await t.http.delete(`/api/v1/groups/${group.id}`)).status).toBe(409);
    expect(await named('rules', 'vsphere/web apart')).toEqual(rule);
    expect(await named('groups', 'vsphere/web')).toEqual(group);
    // The operator's own rules may still use the imported groups.
    await t.http
      .post('/api/v1/rules')
      .send({ clusterId, name: 'mine', kind: 'affinity', vmGroupId: group.id, enforcement: 'soft' })
      .expect(201);
  });

  it('an unchanged import writes nothing; a changed one follows the platform: members, settings, removals, a group that changes kind', async () => {
    const before = await named('rules', 'vsphere/web apart');
    expect(await rules.importFromPlatform(clusterId, base())).toBe(false);
    expect(await named('rules', 'vsphere/web apart')).toEqual(before);

    const next = base();
    next.groups[0].members = ['vm-2'];
    next.rules[0].enabled = false;
    next.rules.splice(1, 1); // "web on rack" removed in vSphere
    next.groups[1] = { name: 'rack', kind: 'vm', members: ['vm-1'] }; // same name, now a VM group
    next.rules.push({ name: 'rack together', kind: 'affinity', vmGroup: 'rack', enforcement: 'hard', enabled: true });
    expect(await rules.importFromPlatform(clusterId, next)).toBe(true);

    const apart = await named('rules', 'vsphere/web apart');
    expect(apart).toMatchObject({ id: before.id, enabled: false });
    expect(await named('rules', 'vsphere/web on rack')).toBeUndefined();
    expect(await named('groups', 'vsphere/web')).toMatchObject({ memberIds: await idsOf(['vm-2']) });
    const rack = await named('groups', 'vsphere/rack');
    expect(rack).toMatchObject({ kind: 'vm', memberIds: await idsOf(['vm-1']) });
    expect(await named('rules', 'vsphere/rack together')).toMatchObject({ vmGroupId: rack.id, source: 'vsphere' });
    // The operator's rule is untouched by any import.
    expect(await named('rules', 'mine')).toMatchObject({ source: null });
  });

  it("never fails on the operator's own rules and groups: a group they still use stays, a name they took is left to them", async () => {
    // "mine" (the operator's) names vsphere/web; the platform drops that group. And the operator made a group named vsphere/db.
    const db = await t.http.post('/api/v1/groups').send({ clusterId, name: 'vsphere/db', kind: 'vm', memberIds: [] }).expect(201);
    const next: PlatformRules = {
      source: 'vsphere',
      groups: [{ name: 'db', kind: 'vm', members: ['vm-0'] }],
      rules: [{ name: 'db apart', kind: 'anti-affinity', vmGroup: 'db', enforcement: 'hard', enabled: true }],
    };
    expect(await rules.importFromPlatform(clusterId, next)).toBe(true);
    expect(await named('groups', 'vsphere/web')).toMatchObject({ source: 'vsphere' });
    expect(await named('groups', 'vsphere/db')).toEqual(db.body);
    expect(await named('rules', 'vsphere/db apart')).toBeUndefined();
    expect((await listed('rules')).map((r: { name: string }) => r.name)).toEqual(['mine']);
    await t.http.delete(`/api/v1/groups/${db.body.id}`).expect(204);
  });

  it('a platform that lists no rules any more leaves none of its own behind', async () => {
    await t.http.delete(`/api/v1/rules/${(await named('rules', 'mine')).id}`).expect(204);
    // The group "mine" kept goes once nothing names it.
    expect(await rules.importFromPlatform(clusterId, { source: 'vsphere', groups: [], rules: [] })).toBe(true);
    expect(await listed('rules')).toEqual([]);
    expect(await listed('groups')).toEqual([]);
  });
});
