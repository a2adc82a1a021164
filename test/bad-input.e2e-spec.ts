// Bad input never yields a 500 and never writes anything: every case below must be refused with a
// 4xx problem naming the faulty field, and the inventory must read the same after all of them.
import { dirname } from 'node:path';
import { Response, Test } from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createCluster, createHost, createVm, unique } from './helpers/fixtures';
import { createTestApp, removeTempDir, TestApp } from './helpers/test-app';

const API = '/api/v1';
const LIST_RESOURCES = ['clusters', 'hosts', 'vms', 'groups', 'rules'] as const;

/** Ids created before the bad requests, for the requests to aim at. */
interface World {
  cluster: { id: string; name: string };
  host: { id: string; name: string };
  vm: { id: string; name: string };
  otherCluster: { id: string; name: string };
  otherHost: { id: string; name: string };
  emptyCluster: { id: string; name: string };
  vmGroup: { id: string };
  hostGroup: { id: string };
  rule: { id: string };
}

interface Case {
  title: string;
  send: (http: TestAgent, w: World) => Test;
  status: number;
  /** Fields the problem must name in errors[].field (or a path inside them, for nesting faults). */
  fields?: string[];
}

function expectProblem(res: Response, status: number, fields: string[] = []): void {
  const named = ((res.body?.errors ?? []) as { field: string }[]).map((e) => e.field);
  // One object, so that a failure prints the whole answer.
  expect({ status: res.status, contentType: res.headers['content-type'], body: res.body }).toMatchObject({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
    body: { type: expect.any(String), title: expect.any(String), status, detail: expect.stringMatching(/\S/) },
  });
  if (fields.length > 0) {
    const within = (field: string) => named.find((n) => n === field || n.startsWith(`${field}.`)) ?? field;
    expect({ named, detail: res.body.detail }).toMatchObject({ named: expect.arrayContaining(fields.map(within)) });
  }
}

const raw = (test: Test, body: string, contentType = 'application/json') => test.set('Content-Type', contentType).send(body);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const hostBody = (w: World, overrides: Record<string, unknown> = {}) => ({
  clusterId: w.cluster.id,
  name: 'bad-input-host',
  cpuCores: 16,
  cpuMhz: 38400,
  memoryMib: 131072,
  ...overrides,
});
const vmBody = (w: World, overrides: Record<string, unknown> = {}) => ({
  clusterId: w.cluster.id,
  hostId: w.host.id,
  name: 'bad-input-vm',
  vcpus: 2,
  memoryMib: 4096,
  ...overrides,
});
const postHost = (overrides: Record<string, unknown>) => (http: TestAgent, w: World) =>
  http.post(`${API}/hosts`).send(hostBody(w, overrides));
const postVm = (overrides: Record<string, unknown>) => (http: TestAgent, w: World) => http.post(`${API}/vms`).send(vmBody(w, overrides));
const syncHost = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  cpuCores: 8,
  cpuMhz: 19200,
  memoryMib: 65536,
  ...overrides,
});
const syncVm = (name: string, hostName: string, overrides: Record<string, unknown> = {}) => ({
  name,
  hostName,
  vcpus: 1,
  memoryMib: 1024,
  ...overrides,
});
const sync =
  (body: unknown, cluster: keyof World = 'cluster') =>
  (http: TestAgent, w: World) =>
    http.put(`${API}/clusters/${w[cluster].id}/inventory`).send(body as object);

const bodyCases: Case[] = [
  // Not JSON, or JSON that is not an object.
  { title: 'truncated JSON', send: (h) => raw(h.post(`${API}/clusters`), '{"name": "x",'), status: 400 },
  { title: 'JavaScript, not JSON', send: (h) => raw(h.post(`${API}/hosts`), "{name: 'esx', cpuCores: 4}"), status: 400 },
  { title: 'a JSON string as the body', send: (h) => raw(h.post(`${API}/clusters`), '"prod"'), status: 400 },
  { title: 'a JSON number as the body', send: (h) => raw(h.post(`${API}/clusters`), '42'), status: 400 },
  { title: 'JSON null as the body', send: (h) => raw(h.post(`${API}/clusters`), 'null'), status: 400 },
  { title: 'a JSON array as the body of a create', send: (h) => raw(h.post(`${API}/clusters`), '[{"name":"from-array"}]'), status: 400 },
  {
    title: 'a JSON array as the body of a sync',
    send: (h, w) => raw(h.put(`${API}/clusters/${w.cluster.id}/inventory`), '[]'),
    status: 400,
  },
  { title: 'a JSON array as the body of a PATCH', send: (h, w) => raw(h.patch(`${API}/vms/${w.vm.id}`), '[{"vcpus":8}]'), status: 400 },
  { title: 'an empty JSON body', send: (h) => raw(h.post(`${API}/clusters`), ''), status: 400, fields: ['name'] },
  { title: 'no body at all', send: (h) => h.post(`${API}/clusters`), status: 400, fields: ['name'] },

  // Not JSON by content type.
  { title: 'text/plain', send: (h) => raw(h.post(`${API}/clusters`), '{"name":"plain"}', 'text/plain'), status: 415 },
  { title: 'form-urlencoded', send: (h) => raw(h.post(`${API}/clusters`), 'name=form', 'application/x-www-form-urlencoded'), status: 415 },
  { title: 'XML', send: (h) => raw(h.post(`${API}/clusters`), '<cluster name="x"/>', 'application/xml'), status: 415 },
  { title: 'text/plain on a PATCH', send: (h, w) => raw(h.patch(`${API}/vms/${w.vm.id}`), '{"vcpus":8}', 'text/plain'), status: 415 },
  {
    title: 'form-urlencoded on a sync',
    send: (h, w) => raw(h.put(`${API}/clusters/${w.cluster.id}/inventory`), 'hosts=&vms=', 'application/x-www-form-urlencoded'),
    status: 415,
  },
  {
    title: 'a charset JSON is never sent in',
    send: (h) => raw(h.post(`${API}/clusters`), '{"name":"latin"}', 'application/json; charset=latin1'),
    status: 415,
  },

  // Wrong types.
  { title: 'string for an integer', send: postHost({ cpuCores: '32' }), status: 400, fields: ['cpuCores'] },
  { title: 'boolean for an integer', send: postHost({ cpuMhz: true }), status: 400, fields: ['cpuMhz'] },
  { title: 'array for an integer', send: postHost({ memoryMib: [131072] }), status: 400, fields: ['memoryMib'] },
  { title: 'object for an integer', send: postHost({ memoryMib: { value: 131072 } }), status: 400, fields: ['memoryMib'] },
  { title: 'number for a name', send: postHost({ name: 42 }), status: 400, fields: ['name'] },
  { title: 'array for a name', send: postHost({ name: ['esx'] }), status: 400, fields: ['name'] },
  { title: 'object for a name', send: postHost({ name: { first: 'esx' } }), status: 400, fields: ['name'] },
  { title: 'number for a clusterId', send: postHost({ clusterId: 7 }), status: 400, fields: ['clusterId'] },
  { title: 'a state that does not exist', send: postHost({ state: 'sleeping' }), status: 400, fields: ['state'] },
  { title: 'a word for a bandwidth', send: postHost({ migrationGbps: 'fast' }), status: 400, fields: ['migrationGbps'] },
  { title: 'a host name for a hostId', send: postVm({ hostId: 'esx-01' }), status: 400, fields: ['hostId'] },
  { title: 'string for vcpus', send: postVm({ vcpus: '2' }), status: 400, fields: ['vcpus'] },
  { title: 'unit in a number', send: postVm({ memoryMib: '4GB' }), status: 400, fields: ['memoryMib'] },
  { title: 'a power state that does not exist', send: postVm({ powerState: 'on' }), status: 400, fields: ['powerState'] },
  { title: 'an automation that does not exist', send: postVm({ automation: 'auto' }), status: 400, fields: ['automation'] },
  { title: 'a word for a limit', send: postVm({ cpuLimitMhz: 'unlimited' }), status: 400, fields: ['cpuLimitMhz'] },
  {
    title: 'number for a description',
    send: (h) => h.post(`${API}/clusters`).send({ name: 'described', description: 5 }),
    status: 400,
    fields: ['description'],
  },
  {
    title: 'a group kind that does not exist',
    send: (h, w) => h.post(`${API}/groups`).send({ clusterId: w.cluster.id, name: 'g', kind: 'cluster' }),
    status: 400,
    fields: ['kind'],
  },
  {
    title: 'a string for memberIds',
    send: (h, w) => h.post(`${API}/groups`).send({ clusterId: w.cluster.id, name: 'g', kind: 'vm', memberIds: w.vm.id }),
    status: 400,
    fields: ['memberIds'],
  },
  {
    title: 'an object for memberIds',
    send: (h, w) => h.post(`${API}/groups`).send({ clusterId: w.cluster.id, name: 'g', kind: 'vm', memberIds: { 0: w.vm.id } }),
    status: 400,
    fields: ['memberIds'],
  },
  {
    title: 'memberIds that are not UUIDs',
    send: (h, w) => h.post(`${API}/groups`).send({ clusterId: w.cluster.id, name: 'g', kind: 'vm', memberIds: ['web-01'] }),
    status: 400,
    fields: ['memberIds'],
  },
  {
    title: 'a member listed twice',
    send: (h, w) => h.post(`${API}/groups`).send({ clusterId: w.cluster.id, name: 'g', kind: 'vm', memberIds: [w.vm.id, w.vm.id] }),
    status: 400,
    fields: ['memberIds'],
  },
  {
    title: 'an enforcement that does not exist',
    send: (h, w) =>
      h.post(`${API}/rules`).send({ clusterId: w.cluster.id, name: 'r', kind: 'affinity', vmGroupId: w.vmGroup.id, enforcement: 'always' }),
    status: 400,
    fields: ['enforcement'],
  },
  {
    title: 'a string for a boolean',
    send: (h, w) =>
      h
        .post(`${API}/rules`)
        .send({ clusterId: w.cluster.id, name: 'r', kind: 'affinity', vmGroupId: w.vmGroup.id, enforcement: 'hard', enabled: 'true' }),
    status: 400,
    fields: ['enabled'],
  },
  {
    title: 'a relation that does not exist',
    send: (h, w) =>
      h.post(`${API}/rules`).send({
        clusterId: w.cluster.id,
        name: 'r',
        kind: 'vm-host',
        vmGroupId: w.vmGroup.id,
        hostGroupId: w.hostGroup.id,
        relation: 'near',
        enforcement: 'hard',
      }),
    status: 400,
    fields: ['relation'],
  },

  // null where a value is required, or where the field may be left out but is not nullable.
  { title: 'null for a required integer', send: postHost({ cpuCores: null }), status: 400, fields: ['cpuCores'] },
  { title: 'null for a required name', send: postHost({ name: null }), status: 400, fields: ['name'] },
  {
    title: 'null for an optional bandwidth (host create)',
    send: postHost({ migrationGbps: null }),
    status: 400,
    fields: ['migrationGbps'],
  },
  { title: 'null for an optional state (host create)', send: postHost({ state: null }), status: 400, fields: ['state'] },
  { title: 'null for an optional power state (VM create)', send: postVm({ powerState: null }), status: 400, fields: ['powerState'] },
  {
    title: 'null for an optional reservation (VM create)',
    send: postVm({ cpuReservationMhz: null }),
    status: 400,
    fields: ['cpuReservationMhz'],
  },
  {
    title: 'null for an optional boolean (rule create)',
    send: (h, w) =>
      h
        .post(`${API}/rules`)
        .send({ clusterId: w.cluster.id, name: 'r-null', kind: 'affinity', vmGroupId: w.vmGroup.id, enforcement: 'hard', enabled: null }),
    status: 400,
    fields: ['enabled'],
  },
  {
    title: 'PATCH host: null for cpuCores',
    send: (h, w) => h.patch(`${API}/hosts/${w.host.id}`).send({ cpuCores: null }),
    status: 400,
    fields: ['cpuCores'],
  },
  {
    title: 'PATCH VM: null for a name',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ name: null }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'PATCH VM: null for a reservation',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ memoryReservationMib: null }),
    status: 400,
    fields: ['memoryReservationMib'],
  },
  {
    title: 'PATCH cluster: null for a name',
    send: (h, w) => h.patch(`${API}/clusters/${w.cluster.id}`).send({ name: null }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'PATCH cluster: null for a description',
    send: (h, w) => h.patch(`${API}/clusters/${w.cluster.id}`).send({ description: null }),
    status: 400,
    fields: ['description'],
  },
  {
    title: 'PATCH group: null for a name',
    send: (h, w) => h.patch(`${API}/groups/${w.vmGroup.id}`).send({ name: null }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'PATCH group: null for memberIds',
    send: (h, w) => h.patch(`${API}/groups/${w.vmGroup.id}`).send({ memberIds: null }),
    status: 400,
    fields: ['memberIds'],
  },
  {
    title: 'PATCH: null for version',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ vcpus: 8, version: null }),
    status: 400,
    fields: ['version'],
  },

  // Unknown fields (forbidNonWhitelisted).
  {
    title: 'an unknown field',
    send: (h) => h.post(`${API}/clusters`).send({ name: 'colored', color: 'red' }),
    status: 400,
    fields: ['color'],
  },
  { title: 'a client-chosen id', send: postHost({ id: '00000000-0000-4000-8000-000000000001' }), status: 400, fields: ['id'] },
  { title: 'a client-chosen version on create', send: postVm({ version: 5 }), status: 400, fields: ['version'] },
  { title: 'a sync-only field on create', send: postVm({ hostName: 'esx-01' }), status: 400, fields: ['hostName'] },
  {
    title: 'PATCH VM: hostId (hosts change by migration only)',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ hostId: w.otherHost.id }),
    status: 400,
    fields: ['hostId'],
  },
  {
    title: 'PATCH host: clusterId',
    send: (h, w) => h.patch(`${API}/hosts/${w.host.id}`).send({ clusterId: w.otherCluster.id }),
    status: 400,
    fields: ['clusterId'],
  },
  {
    title: 'PATCH group: kind',
    send: (h, w) => h.patch(`${API}/groups/${w.vmGroup.id}`).send({ kind: 'host' }),
    status: 400,
    fields: ['kind'],
  },
  {
    title: 'PATCH rule: clusterId',
    send: (h, w) => h.patch(`${API}/rules/${w.rule.id}`).send({ clusterId: w.otherCluster.id }),
    status: 400,
    fields: ['clusterId'],
  },
  {
    title: 'a "constructor" field',
    send: (h) => raw(h.post(`${API}/clusters`), '{"name":"ctor-field","constructor":{"name":"x"}}'),
    status: 400,
    fields: ['constructor'],
  },
  {
    title: 'a "__proto__" field',
    send: (h) => raw(h.post(`${API}/clusters`), '{"name":"proto-field","__proto__":{"admin":true}}'),
    status: 400,
    fields: ['__proto__'],
  },

  // Missing required fields.
  {
    title: 'a cluster without a name',
    send: (h) => h.post(`${API}/clusters`).send({ description: 'nameless' }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a host without capacity',
    send: (h, w) => h.post(`${API}/hosts`).send({ clusterId: w.cluster.id, name: 'hollow' }),
    status: 400,
    fields: ['cpuCores', 'cpuMhz', 'memoryMib'],
  },
  {
    title: 'a host without a cluster',
    send: (h, w) => h.post(`${API}/hosts`).send({ ...hostBody(w), clusterId: undefined }),
    status: 400,
    fields: ['clusterId'],
  },
  // Without a host a VM is placed by the balancer (scheduler e2e); a null host is still bad input.
  {
    title: 'a VM with a null host',
    send: (h, w) => h.post(`${API}/vms`).send({ ...vmBody(w), hostId: null }),
    status: 400,
    fields: ['hostId'],
  },
  {
    title: 'a VM without a size',
    send: (h, w) => h.post(`${API}/vms`).send({ ...vmBody(w), vcpus: undefined, memoryMib: undefined }),
    status: 400,
    fields: ['vcpus', 'memoryMib'],
  },
  {
    title: 'a group without a kind',
    send: (h, w) => h.post(`${API}/groups`).send({ clusterId: w.cluster.id, name: 'kindless' }),
    status: 400,
    fields: ['kind'],
  },
  {
    title: 'a rule without a VM group or enforcement',
    send: (h, w) => h.post(`${API}/rules`).send({ clusterId: w.cluster.id, name: 'r', kind: 'affinity' }),
    status: 400,
    fields: ['vmGroupId', 'enforcement'],
  },

  // Lengths, blanks and control characters in names.
  {
    title: 'a 10,000-character cluster name',
    send: (h) => h.post(`${API}/clusters`).send({ name: 'x'.repeat(10_000) }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a 201-character cluster name',
    send: (h) => h.post(`${API}/clusters`).send({ name: 'y'.repeat(201) }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a 2,001-character description',
    send: (h) => h.post(`${API}/clusters`).send({ name: 'wordy', description: 'd'.repeat(2001) }),
    status: 400,
    fields: ['description'],
  },
  { title: 'a 10,000-character host name', send: postHost({ name: 'h'.repeat(10_000) }), status: 400, fields: ['name'] },
  {
    title: 'PATCH VM: a 10,000-character name',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ name: 'v'.repeat(10_000) }),
    status: 400,
    fields: ['name'],
  },
  { title: 'an empty name', send: (h) => h.post(`${API}/clusters`).send({ name: '' }), status: 400, fields: ['name'] },
  { title: 'a name of spaces only', send: (h) => h.post(`${API}/clusters`).send({ name: '   ' }), status: 400, fields: ['name'] },
  ...[
    ['NUL', 'nul\u0000name'],
    ['tab', 'tab\there'],
    ['newline', 'line\nbreak'],
    ['bell', 'bell\u0007'],
    ['escape sequence', 'esc\u001b[31mred'],
    ['DEL', 'del\u007fete'],
  ].map(([what, name]): Case => ({
    title: `a ${what} inside a name`,
    send: (h) => h.post(`${API}/clusters`).send({ name }),
    status: 400,
    fields: ['name'],
  })),
  ...[
    ['C1 NEL (U+0085)', 'next\u0085line'],
    ['C1 CSI (U+009B)', 'csi\u009b31mred'],
  ].map(([what, name]): Case => ({
    title: `a ${what} control character inside a name`,
    send: (h) => h.post(`${API}/clusters`).send({ name }),
    status: 400,
    fields: ['name'],
  })),
  { title: 'a control character inside a host name', send: postHost({ name: 'esx\u0000-01' }), status: 400, fields: ['name'] },

  // Numbers out of range, fractional, huge, or numbers in strings.
  { title: 'negative cores', send: postHost({ cpuCores: -1 }), status: 400, fields: ['cpuCores'] },
  { title: 'zero cores', send: postHost({ cpuCores: 0 }), status: 400, fields: ['cpuCores'] },
  { title: 'fractional cores', send: postHost({ cpuCores: 1.5 }), status: 400, fields: ['cpuCores'] },
  { title: '1e308 MHz', send: postHost({ cpuMhz: 1e308 }), status: 400, fields: ['cpuMhz'] },
  { title: 'MAX_SAFE_INTEGER + 2 MiB', send: postHost({ memoryMib: Number.MAX_SAFE_INTEGER + 2 }), status: 400, fields: ['memoryMib'] },
  {
    title: 'negative zero memory',
    send: (h, w) => raw(h.post(`${API}/hosts`), JSON.stringify(hostBody(w)).replace('"memoryMib":131072', '"memoryMib":-0')),
    status: 400,
    fields: ['memoryMib'],
  },
  { title: '"NaN" for cores', send: postHost({ cpuCores: 'NaN' }), status: 400, fields: ['cpuCores'] },
  { title: '"Infinity" for MHz', send: postHost({ cpuMhz: 'Infinity' }), status: 400, fields: ['cpuMhz'] },
  { title: '"1e3" for memory', send: postHost({ memoryMib: '1e3' }), status: 400, fields: ['memoryMib'] },
  { title: 'zero bandwidth', send: postHost({ migrationGbps: 0 }), status: 400, fields: ['migrationGbps'] },
  { title: 'negative bandwidth', send: postHost({ migrationGbps: -5 }), status: 400, fields: ['migrationGbps'] },
  { title: '1e308 bandwidth', send: postHost({ migrationGbps: 1e308 }), status: 400, fields: ['migrationGbps'] },
  { title: 'zero vcpus', send: postVm({ vcpus: 0 }), status: 400, fields: ['vcpus'] },
  { title: 'negative memory', send: postVm({ memoryMib: -4096 }), status: 400, fields: ['memoryMib'] },
  { title: 'fractional memory', send: postVm({ memoryMib: 2048.5 }), status: 400, fields: ['memoryMib'] },
  { title: 'negative reservation', send: postVm({ cpuReservationMhz: -1 }), status: 400, fields: ['cpuReservationMhz'] },
  { title: 'a zero limit', send: postVm({ cpuLimitMhz: 0 }), status: 400, fields: ['cpuLimitMhz'] },
  { title: 'a 1e308 limit', send: postVm({ memoryLimitMib: 1e308 }), status: 400, fields: ['memoryLimitMib'] },
  { title: 'reservation above memory size', send: postVm({ memoryReservationMib: 8192 }), status: 400, fields: ['memoryReservationMib'] },
  {
    title: 'reservation above limit',
    send: postVm({ cpuReservationMhz: 3000, cpuLimitMhz: 2000 }),
    status: 400,
    fields: ['cpuReservationMhz'],
  },
  {
    title: 'PATCH VM: memory reservation above its memory size',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ memoryReservationMib: 8192 }),
    status: 400,
    fields: ['memoryReservationMib'],
  },
  {
    title: 'PATCH VM: CPU reservation above its CPU limit',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ cpuReservationMhz: 5000 }),
    status: 400,
    fields: ['cpuReservationMhz'],
  },
  {
    title: 'PATCH: version as a string',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ vcpus: 8, version: '1' }),
    status: 400,
    fields: ['version'],
  },
  {
    title: 'PATCH: fractional version',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ vcpus: 8, version: 1.5 }),
    status: 400,
    fields: ['version'],
  },
  {
    title: 'PATCH: a huge version is stale',
    send: (h, w) => h.patch(`${API}/vms/${w.vm.id}`).send({ vcpus: 8, version: Number.MAX_SAFE_INTEGER + 2 }),
    status: 409,
    fields: ['version'],
  },

  // Deep nesting.
  {
    title: 'a 20-level object for a name',
    send: (h) => raw(h.post(`${API}/clusters`), `{"name":${deepObject(20)}}`),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a 10,000-level object for a name',
    send: (h) => raw(h.post(`${API}/clusters`), `{"name":${deepObject(10_000)}}`),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a 10,000-level array for a name',
    send: (h) => raw(h.post(`${API}/clusters`), `{"name":${deepArray(10_000)}}`),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a 10,000-level unknown field',
    send: (h) => raw(h.post(`${API}/clusters`), `{"name":"deep","extra":${deepObject(10_000)}}`),
    status: 400,
    fields: ['extra'],
  },
  {
    title: 'a 10,000-level object inside a sync entry',
    send: (h, w) =>
      raw(
        h.put(`${API}/clusters/${w.cluster.id}/inventory`),
        `{"hosts":[],"vms":[{"name":${deepObject(10_000)},"hostName":"x","vcpus":1,"memoryMib":1}]}`,
      ),
    status: 400,
    fields: ['vms.0.name'],
  },
];

const queryCases: Case[] = [
  ...LIST_RESOURCES.flatMap((resource): Case[] => [
    { title: `${resource}?limit=0`, send: (h) => h.get(`${API}/${resource}?limit=0`), status: 400, fields: ['limit'] },
    { title: `${resource}?limit=100000`, send: (h) => h.get(`${API}/${resource}?limit=100000`), status: 400, fields: ['limit'] },
    { title: `${resource}?offset=-1`, send: (h) => h.get(`${API}/${resource}?offset=-1`), status: 400, fields: ['offset'] },
    { title: `${resource}?limit=abc`, send: (h) => h.get(`${API}/${resource}?limit=abc`), status: 400, fields: ['limit'] },
  ]),
  { title: 'limit=1.5', send: (h) => h.get(`${API}/hosts?limit=1.5`), status: 400, fields: ['limit'] },
  { title: 'limit= (empty)', send: (h) => h.get(`${API}/hosts?limit=`), status: 400, fields: ['limit'] },
  { title: 'limit=-5', send: (h) => h.get(`${API}/vms?limit=-5`), status: 400, fields: ['limit'] },
  { title: 'limit given twice', send: (h) => h.get(`${API}/vms?limit=10&limit=20`), status: 400, fields: ['limit'] },
  { title: 'offset=abc', send: (h) => h.get(`${API}/vms?offset=abc`), status: 400, fields: ['offset'] },
  { title: 'offset=1e999', send: (h) => h.get(`${API}/vms?offset=1e999`), status: 400, fields: ['offset'] },
  { title: 'offset=NaN', send: (h) => h.get(`${API}/groups?offset=NaN`), status: 400, fields: ['offset'] },
  { title: 'clusterId that is not a UUID', send: (h) => h.get(`${API}/vms?clusterId=prod`), status: 400, fields: ['clusterId'] },
  { title: 'hostId that is not a UUID', send: (h) => h.get(`${API}/vms?hostId=esx-01`), status: 400, fields: ['hostId'] },
  { title: 'a power state that does not exist', send: (h) => h.get(`${API}/vms?powerState=on`), status: 400, fields: ['powerState'] },
  { title: 'a host state that does not exist', send: (h) => h.get(`${API}/hosts?state=sleeping`), status: 400, fields: ['state'] },
  { title: 'a group kind that does not exist', send: (h) => h.get(`${API}/groups?kind=cluster`), status: 400, fields: ['kind'] },
  { title: 'a rule kind that does not exist', send: (h) => h.get(`${API}/rules?kind=near`), status: 400, fields: ['kind'] },
  { title: 'a filter the resource does not have', send: (h) => h.get(`${API}/vms?state=connected`), status: 400, fields: ['state'] },
  { title: 'an unknown query parameter', send: (h) => h.get(`${API}/clusters?sort=name`), status: 400, fields: ['sort'] },
  {
    title: 'a 10,000-character name filter',
    send: (h) => h.get(`${API}/hosts`).query({ name: 'n'.repeat(10_000) }),
    status: 400,
    fields: ['name'],
  },
  {
    title: 'a control character in a name filter',
    send: (h) => h.get(`${API}/hosts`).query({ name: 'a\u0001b' }),
    status: 400,
    fields: ['name'],
  },
  { title: 'a bracketed query parameter', send: (h) => h.get(`${API}/hosts?name[]=a`), status: 400 },
  { title: 'a 10,000-character id', send: (h) => h.get(`${API}/hosts/${'i'.repeat(10_000)}`), status: 400, fields: ['id'] },
  { title: 'SQL in an id', send: (h) => h.delete(`${API}/groups/${encodeURIComponent("1' OR '1'='1")}`), status: 400, fields: ['id'] },
];

const syncCases: Case[] = [
  { title: 'sync: no lists', send: sync({}), status: 400, fields: ['hosts', 'vms'] },
  { title: 'sync: vms missing', send: sync({ hosts: [] }), status: 400, fields: ['vms'] },
  { title: 'sync: an object for hosts', send: sync({ hosts: {}, vms: [] }), status: 400, fields: ['hosts'] },
  { title: 'sync: a string for vms', send: sync({ hosts: [], vms: 'all' }), status: 400, fields: ['vms'] },
  { title: 'sync: null and a string as VMs', send: sync({ hosts: [], vms: [null, 'web-01'] }), status: 400, fields: ['vms.0', 'vms.1'] },
  { title: 'sync: a string for prune', send: sync({ hosts: [], vms: [], prune: 'yes' }), status: 400, fields: ['prune'] },
  { title: 'sync: an unknown top-level field', send: sync({ hosts: [], vms: [], dryRun: true }), status: 400, fields: ['dryRun'] },
  {
    title: 'sync: a wrong type deep in the list is named by its path',
    send: (h, w) =>
      sync({
        hosts: [],
        vms: [0, 1, 2].map((i) => syncVm(`ok-${i}`, w.host.name)).concat([syncVm('bad-3', w.host.name, { memoryMib: 'lots' })]),
      })(h, w),
    status: 400,
    fields: ['vms.3.memoryMib'],
  },
  {
    title: 'sync: a negative host capacity is named by its path',
    send: sync({ hosts: [syncHost('n-0'), syncHost('n-1', { cpuCores: -1 })], vms: [] }),
    status: 400,
    fields: ['hosts.1.cpuCores'],
  },
  {
    title: 'sync: an unknown field in a VM',
    send: (h, w) => sync({ hosts: [], vms: [syncVm('x', w.host.name, { color: 'red' })] })(h, w),
    status: 400,
    fields: ['vms.0.color'],
  },
  {
    title: 'sync: a VM without hostName',
    send: sync({ hosts: [], vms: [{ name: 'homeless', vcpus: 1, memoryMib: 512 }] }),
    status: 400,
    fields: ['vms.0.hostName'],
  },
  {
    title: 'sync: null for a host state',
    send: sync({ hosts: [syncHost('null-state', { state: null })], vms: [] }),
    status: 400,
    fields: ['hosts.0.state'],
  },
  {
    title: 'sync: null for a VM power state',
    send: (h, w) => sync({ hosts: [], vms: [syncVm('null-power', w.host.name, { powerState: null })] })(h, w),
    status: 400,
    fields: ['vms.0.powerState'],
  },
  {
    title: 'sync: null for an existing host state',
    send: (h, w) => sync({ hosts: [syncHost(w.host.name, { state: null })], vms: [] })(h, w),
    status: 400,
    fields: ['hosts.0.state'],
  },
  {
    title: 'sync: a host listed twice',
    send: sync({ hosts: [syncHost('twice'), syncHost('twice')], vms: [] }),
    status: 400,
    fields: ['hosts.1.name'],
  },
  {
    title: 'sync: a host listed twice (once with spaces)',
    send: sync({ hosts: [syncHost('spaced'), syncHost('  spaced ')], vms: [] }),
    status: 400,
    fields: ['hosts.1.name'],
  },
  {
    title: 'sync: a VM listed twice',
    send: (h, w) => sync({ hosts: [], vms: [syncVm('a', w.host.name), syncVm('b', w.host.name), syncVm('a', w.host.name)] })(h, w),
    status: 400,
    fields: ['vms.2.name'],
  },
  {
    title: 'sync: a reservation above memory size',
    send: (h, w) => sync({ hosts: [], vms: [syncVm('a', w.host.name), syncVm('b', w.host.name, { memoryReservationMib: 2048 })] })(h, w),
    status: 400,
    fields: ['vms.1.memoryReservationMib'],
  },
  {
    title: 'sync: a VM naming a host of another cluster',
    send: (h, w) => sync({ hosts: [], vms: [syncVm('stray', w.otherHost.name)] })(h, w),
    status: 422,
    fields: ['vms.0.hostName'],
  },
];

describe('bad input', () => {
  let t: TestApp;
  let http: TestAgent;
  let w: World;
  const before: Record<string, unknown> = {};

  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (const resource of LIST_RESOURCES) out[resource] = (await http.get(`${API}/${resource}`).query({ limit: 1000 }).expect(200)).body;
    return out;
  };

  beforeAll(async () => {
    t = await createTestApp();
    http = t.http;
    const cluster = await createCluster(http, unique('bad-input'));
    const host = await createHost(http, cluster.id, { name: 'esx-base', cpuCores: 16 });
    const vm = await createVm(http, cluster.id, host.id, { name: 'vm-base', memoryMib: 4096, cpuLimitMhz: 2000 });
    const otherCluster = await createCluster(http, unique('bad-input-other'));
    const otherHost = await createHost(http, otherCluster.id, { name: 'esx-elsewhere' });
    const emptyCluster = await createCluster(http, unique('bad-input-empty'));
    const vmGroup = (
      await http
        .post(`${API}/groups`)
        .send({ clusterId: cluster.id, name: 'base-vms', kind: 'vm', memberIds: [vm.id] })
        .expect(201)
    ).body;
    const hostGroup = (
      await http
        .post(`${API}/groups`)
        .send({ clusterId: cluster.id, name: 'base-hosts', kind: 'host', memberIds: [host.id] })
        .expect(201)
    ).body;
    const rule = (
      await http
        .post(`${API}/rules`)
        .send({ clusterId: cluster.id, name: 'base-rule', kind: 'affinity', vmGroupId: vmGroup.id, enforcement: 'soft' })
        .expect(201)
    ).body;
    w = { cluster, host, vm, otherCluster, otherHost, emptyCluster, vmGroup, hostGroup, rule };
    Object.assign(before, await snapshot());
  });

  afterAll(async () => {
    await t?.close();
    if (t) removeTempDir(dirname(t.databasePath));
  });

  describe('request bodies', () => {
    it.each(bodyCases.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
      expectProblem(await c.send(http, w), c.status, c.fields);
    });
  });

  describe('query parameters and ids', () => {
    it.each(queryCases.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
      expectProblem(await c.send(http, w), c.status, c.fields);
    });
  });

  describe('inventory sync', () => {
    it.each(syncCases.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
      expectProblem(await c.send(http, w), c.status, c.fields);
    });

    it('a VM naming an unknown host is a 422 naming vms.N.hostName, and nothing of the request is written', async () => {
      const res = await http.put(`${API}/clusters/${w.emptyCluster.id}/inventory`).send({
        hosts: [syncHost('new-1'), syncHost('new-2')],
        vms: [syncVm('v-0', 'new-1'), syncVm('v-1', 'new-2'), syncVm('v-2', 'ghost')],
      });
      expectProblem(res, 422, ['vms.2.hostName']);
      expect((await http.get(`${API}/hosts`).query({ clusterId: w.emptyCluster.id }).expect(200)).body.total).toBe(0);
      expect((await http.get(`${API}/vms`).query({ clusterId: w.emptyCluster.id }).expect(200)).body.total).toBe(0);
    });

    it('a failing sync leaves hosts and VMs it would have updated as they were', async () => {
      const hostBefore = (await http.get(`${API}/hosts/${w.host.id}`).expect(200)).body;
      const vmBefore = (await http.get(`${API}/vms/${w.vm.id}`).expect(200)).body;
      const res = await http.put(`${API}/clusters/${w.cluster.id}/inventory`).send({
        hosts: [syncHost(w.host.name, { cpuCores: 64 }), syncHost('brand-new')],
        vms: [syncVm(w.vm.name, w.host.name, { memoryMib: 16384 }), syncVm('v-new', 'brand-new'), syncVm('v-lost', 'nowhere')],
      });
      expectProblem(res, 422, ['vms.2.hostName']);
      expect((await http.get(`${API}/hosts/${w.host.id}`).expect(200)).body).toEqual(hostBefore);
      expect((await http.get(`${API}/vms/${w.vm.id}`).expect(200)).body).toEqual(vmBefore);
      expect((await http.get(`${API}/hosts`).query({ name: 'brand-new' }).expect(200)).body.total).toBe(0);
      expect((await http.get(`${API}/vms`).query({ name: 'v-new' }).expect(200)).body.total).toBe(0);
    });

    it('a reservation above the stored limit, found after hosts were updated, rolls the whole sync back', async () => {
      // The VM has cpuLimitMhz 2000; the request leaves the limit out and reserves 3000.
      const hostBefore = (await http.get(`${API}/hosts/${w.host.id}`).expect(200)).body;
      const res = await http.put(`${API}/clusters/${w.cluster.id}/inventory`).send({
        hosts: [syncHost(w.host.name, { cpuCores: 48 })],
        vms: [syncVm(w.vm.name, w.host.name, { memoryMib: 4096, cpuReservationMhz: 3000 })],
      });
      expectProblem(res, 400, ['vms.0.cpuReservationMhz']);
      expect((await http.get(`${API}/hosts/${w.host.id}`).expect(200)).body).toEqual(hostBefore);
    });

    it('with prune, a VM may not name a host the request leaves out; nothing is pruned', async () => {
      const res = await http
        .put(`${API}/clusters/${w.cluster.id}/inventory`)
        .send({ hosts: [], vms: [syncVm(w.vm.name, w.host.name)], prune: true });
      expectProblem(res, 422, ['vms.0.hostName']);
      await http.get(`${API}/hosts/${w.host.id}`).expect(200);
      await http.get(`${API}/vms/${w.vm.id}`).expect(200);
    });

    it('a sync of a cluster that does not exist, or with a malformed id, writes nothing', async () => {
      expectProblem(
        await http.put(`${API}/clusters/00000000-0000-4000-8000-000000000000/inventory`).send({ hosts: [syncHost('lost')], vms: [] }),
        404,
      );
      expectProblem(await http.put(`${API}/clusters/prod/inventory`).send({ hosts: [syncHost('lost')], vms: [] }), 400, ['id']);
      expect((await http.get(`${API}/hosts`).query({ name: 'lost' }).expect(200)).body.total).toBe(0);
    });
  });

  // Runs last in this block: every refused request above must have left the inventory as it was.
  it('after all of the above, clusters, hosts, VMs, groups and rules read exactly as before', async () => {
    expect(await snapshot()).toEqual(before);
  });
});

describe('valid but unusual input', () => {
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

  it('emoji and non-Latin names round-trip through create, read and the name filter', async () => {
    const clusterName = '🚀 prod-東京 — ñandú';
    const cluster = await http.post(`${API}/clusters`).send({ name: clusterName }).expect(201);
    expect(cluster.body.name).toBe(clusterName);
    expect((await http.get(`${API}/clusters/${cluster.body.id}`).expect(200)).body.name).toBe(clusterName);
    expect((await http.get(`${API}/clusters`).query({ name: clusterName }).expect(200)).body).toMatchObject({
      total: 1,
      items: [{ id: cluster.body.id }],
    });

    const hostName = 'esx-🔥-Ωmega';
    const vmName = '👩‍💻 dev-box ✓';
    const host = await createHost(http, cluster.body.id, { name: hostName });
    const vm = await createVm(http, cluster.body.id, host.id, { name: vmName });
    expect((await http.get(`${API}/hosts/${host.id}`).expect(200)).body.name).toBe(hostName);
    expect((await http.get(`${API}/vms`).query({ name: vmName }).expect(200)).body).toMatchObject({
      total: 1,
      items: [{ id: vm.id, name: vmName }],
    });
    const group = await http
      .post(`${API}/groups`)
      .send({ clusterId: cluster.body.id, name: 'группа 🧩', kind: 'vm', memberIds: [vm.id] })
      .expect(201);
    expect(group.body.name).toBe('группа 🧩');
    const rule = await http
      .post(`${API}/rules`)
      .send({ clusterId: cluster.body.id, name: 'قاعدة 🤝', kind: 'affinity', vmGroupId: group.body.id, enforcement: 'soft' })
      .expect(201);
    expect((await http.get(`${API}/rules/${rule.body.id}`).expect(200)).body.name).toBe('قاعدة 🤝');

    // The sync matches hosts and VMs by these names too: nothing is created twice.
    const synced = await http
      .put(`${API}/clusters/${cluster.body.id}/inventory`)
      .send({
        hosts: [syncHost(hostName, { cpuCores: 32, cpuMhz: 76800, memoryMib: 262144 })],
        vms: [syncVm(vmName, hostName, { vcpus: 2, memoryMib: 4096 })],
      })
      .expect(200);
    expect(synced.body).toMatchObject({ hosts: { created: 0, unchanged: 1 }, vms: { created: 0, unchanged: 1 } });
  });

  it('names are trimmed, and 200 characters is the longest accepted', async () => {
    const trimmed = await http.post(`${API}/clusters`).send({ name: '  spaced out  ' }).expect(201);
    expect(trimmed.body.name).toBe('spaced out');
    const longest = 'L'.repeat(200);
    expect((await http.post(`${API}/clusters`).send({ name: longest }).expect(201)).body.name).toBe(longest);
  });

  it('a body the content-type check lets through (application/*+json) is read, not silently ignored', async () => {
    const cluster = await createCluster(http);
    const res = await http
      .patch(`${API}/clusters/${cluster.id}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send('{"description":"via merge-patch"}');
    // Either refuse the media type, or apply the change: a 200 that drops the change is a lost update.
    if (res.status === 415) {
      expectProblem(res, 415);
    } else {
      expect({ status: res.status, description: res.body.description }).toEqual({ status: 200, description: 'via merge-patch' });
    }
    const created = await http.post(`${API}/clusters`).set('Content-Type', 'application/vnd.api+json').send('{"name":"vendor-json"}');
    expect([201, 415]).toContain(created.status);
    if (created.status === 201) expect(created.body.name).toBe('vendor-json');
  });
});
