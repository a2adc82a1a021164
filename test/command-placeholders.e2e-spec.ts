// Placeholders of the migration command carry only values of a strict grammar: a host name such as
// "evil.example/system?socket=/tmp/x#" would turn qemu+ssh://{targetHost}/system into another URL,
// and a VM named "$(id -u)" runs code in a shell template. Such writes are refused when they are
// made (422 naming the field), checked again when a migration starts, and shell templates stop the boot.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { query } from './helpers/child-app';
import { createCluster, createHost, createVm } from './helpers/fixtures';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { waitFor } from './helpers/wait';

const FAKE = resolve(__dirname, 'fixtures', 'fake-migrate.sh');
const API = '/api/v1';
const EVIL_HOST = 'evil.example/system?socket=/tmp/x#';
const EVIL_VM = '$(id -u)';
const spec = { cpuCores: 32, cpuMhz: 76800, memoryMib: 262144 };

const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

function expectProblem(
  res: { status: number; headers: Record<string, string>; body: { errors?: { field: string }[] } },
  status: number,
  field: string,
) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(fields(res.body)).toContain(field);
}

describe('command placeholders with the command driver', () => {
  const dir = makeTempDir();
  const argsFile = join(dir, 'args');
  const env = {
    MIGRATION_DRIVER: 'command',
    MIGRATION_COMMAND: JSON.stringify([FAKE, 'args', argsFile, '{vm}', 'qemu+ssh://{targetHost}/system']),
    MIGRATION_MAX_ATTEMPTS: 1,
  };
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ databasePath: join(dir, 'drs.sqlite'), env })));
  afterAll(async () => {
    await t.close();
    removeTempDir(dir);
  });

  it('refuses a host whose name would change the destination and that has no address (422 naming address): POST, PATCH and sync', async () => {
    const cluster = await createCluster(t.http);
    const created = await t.http.post(`${API}/hosts`).send({ clusterId: cluster.id, name: EVIL_HOST, ...spec });
    expectProblem(created, 422, 'address');

    const synced = await t.http.put(`${API}/clusters/${cluster.id}/inventory`).send({
      hosts: [
        { name: 'kvm-a', ...spec },
        { name: EVIL_HOST, ...spec },
      ],
      vms: [],
    });
    expectProblem(synced, 422, 'hosts.1.address');
    // Nothing of the refused sync was written.
    expect((await t.http.get(`${API}/hosts`).query({ clusterId: cluster.id })).body.total).toBe(0);

    const host = await createHost(t.http, cluster.id, { name: 'kvm-b' });
    expectProblem(await t.http.patch(`${API}/hosts/${host.id}`).send({ name: EVIL_HOST }), 422, 'address');
    expect((await t.http.get(`${API}/hosts/${host.id}`)).body.name).toBe('kvm-b');
  });

  it('accepts any display name once the host has a valid address, which the API shows (null when unset)', async () => {
    const cluster = await createCluster(t.http);
    const labelled = await t.http
      .post(`${API}/hosts`)
      .send({ clusterId: cluster.id, name: 'Rack 4 / blade 2', address: '192.0.2.42', ...spec });
    expect(labelled.status).toBe(201);
    expect(labelled.body.address).toBe('192.0.2.42');
    const plain = await createHost(t.http, cluster.id, { name: 'kvm-c.example' });
    const list = await t.http.get(`${API}/hosts`).query({ clusterId: cluster.id });
    expect(list.body.items.map((h: { name: string; address: string | null }) => [h.name, h.address])).toEqual([
      ['Rack 4 / blade 2', '192.0.2.42'],
      ['kvm-c.example', null],
    ]);
    // Clearing the address of a host whose name is no address would leave it unreachable.
    expectProblem(await t.http.patch(`${API}/hosts/${labelled.body.id}`).send({ address: null }), 422, 'address');
    const cleared = await t.http.patch(`${API}/hosts/${plain.id}`).send({ address: '[2001:db8::5]' });
    expect(cleared.body.address).toBe('[2001:db8::5]');

    const synced = await t.http.put(`${API}/clusters/${cluster.id}/inventory`).send({
      hosts: [
        { name: 'Rack 4 / blade 2', ...spec },
        { name: 'Rack 5', address: 'kvm-5.example', ...spec },
      ],
      vms: [],
    });
    expect(synced.status).toBe(200);
    const rack5 = (await t.http.get(`${API}/hosts`).query({ clusterId: cluster.id, name: 'Rack 5' })).body.items[0];
    expect(rack5.address).toBe('kvm-5.example');
  });

  it('refuses an address that is not a DNS name or an IP literal (400 naming address)', async () => {
    const cluster = await createCluster(t.http);
    for (const address of [EVIL_HOST, 'kvm-b:2222', 'root@kvm-b', 'kvm b', 'kvm-b\n']) {
      expectProblem(await t.http.post(`${API}/hosts`).send({ clusterId: cluster.id, name: 'kvm-x', address, ...spec }), 400, 'address');
    }
    const synced = await t.http
      .put(`${API}/clusters/${cluster.id}/inventory`)
      .send({ hosts: [{ name: 'kvm-x', address: EVIL_HOST, ...spec }], vms: [] });
    expectProblem(synced, 400, 'hosts.0.address');
  });

  it(`refuses a VM named ${EVIL_VM} when the template puts the name in {vm} (422 naming name): POST, PATCH and sync`, async () => {
    const cluster = await createCluster(t.http);
    const host = await createHost(t.http, cluster.id, { name: 'kvm-a' });
    expectProblem(
      await t.http.post(`${API}/vms`).send({ clusterId: cluster.id, hostId: host.id, name: EVIL_VM, vcpus: 1, memoryMib: 1024 }),
      422,
      'name',
    );

    const vm = await createVm(t.http, cluster.id, host.id, { name: 'guest-1' });
    expectProblem(await t.http.patch(`${API}/vms/${vm.id}`).send({ name: EVIL_VM }), 422, 'name');

    const vms = ['g-0', 'g-1', 'g-2', EVIL_VM].map((name) => ({ name, hostName: 'kvm-a', vcpus: 1, memoryMib: 1024 }));
    expectProblem(await t.http.put(`${API}/clusters/${cluster.id}/inventory`).send({ hosts: [], vms }), 422, 'vms.3.name');
    expect((await t.http.get(`${API}/vms`).query({ clusterId: cluster.id })).body.total).toBe(1);
  });

  it('checks again when a migration starts: rows written around the API fail their migration and nothing runs', async () => {
    const cluster = await createCluster(t.http);
    const a = await createHost(t.http, cluster.id, { name: 'kvm-a' });
    const b = await createHost(t.http, cluster.id, { name: 'kvm-b' });
    const vm = await createVm(t.http, cluster.id, a.id, { name: 'guest-1' });
    // As an older version or a hand-made SQL update could have left them.
    await query(t.databasePath, 'UPDATE hosts SET name = ? WHERE id = ?', [EVIL_HOST, b.id]);
    const created = await t.http.post(`${API}/migrations`).send({ vmId: vm.id, targetHostId: b.id }).expect(201);
    const done = await waitFor(async () => {
      const m = (await t.http.get(`${API}/migrations/${created.body.id}`)).body;
      return ['failed', 'succeeded'].includes(m.state) ? m : undefined;
    });
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/not started: host "evil\.example\/system\?socket=\/tmp\/x#" cannot fill \{targetHost\}/);
    expect(existsSync(argsFile)).toBe(false);
    expect((await t.http.get(`${API}/vms/${vm.id}`)).body.hostId).toBe(a.id);
  });
});

describe('command placeholders with the simulated driver', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('still refuses an invalid address, but leaves display names alone', async () => {
    const cluster = await createCluster(t.http);
    expectProblem(
      await t.http.post(`${API}/hosts`).send({ clusterId: cluster.id, name: 'h', address: EVIL_HOST, ...spec }),
      400,
      'address',
    );
    const host = await createHost(t.http, cluster.id, { name: EVIL_HOST });
    await createVm(t.http, cluster.id, host.id, { name: EVIL_VM });
  });
});

describe('shell templates', () => {
  const shellEnv = (command: unknown[], extra: Record<string, unknown> = {}) => ({
    env: { MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: JSON.stringify(command), ...extra },
  });

  it.each([
    [['sh', '-c', 'echo {vm} > file'], 'sh'],
    [['/bin/bash', '-c', 'echo {vm} > file'], 'bash'],
    [['env', 'sh', '-c', 'echo {vm} > file'], 'sh'],
    [['/usr/bin/env', '-i', 'PATH=/bin', 'dash', '-c', 'echo {vm} > file'], 'dash'],
    [['env', '-S', 'sh -c "echo {vm} > file"'], 'sh'],
  ])('stop the boot with a message: %j', async (command, shell) => {
    const message = new RegExp(`MIGRATION_COMMAND runs the shell "${shell}".*MIGRATION_COMMAND_ALLOW_SHELL=true`, 's');
    await expect(createTestApp(shellEnv(command))).rejects.toThrow(message);
  });

  it('are refused as reconcile commands too', async () => {
    await expect(
      createTestApp(
        shellEnv(['virsh', 'migrate', '{vm}'], { MIGRATION_RECONCILE_COMMAND: JSON.stringify(['sh', '-c', 'virsh domhostname {vm}']) }),
      ),
    ).rejects.toThrow(/MIGRATION_RECONCILE_COMMAND runs the shell "sh"/);
  });

  it(`start when allowed, and a VM named ${EVIL_VM} is still refused when written`, async () => {
    const dir = makeTempDir();
    const t = await createTestApp(shellEnv(['sh', '-c', `echo {vm} > ${join(dir, 'file')}`], { MIGRATION_COMMAND_ALLOW_SHELL: true }));
    try {
      const cluster = await createCluster(t.http);
      const host = await createHost(t.http, cluster.id, { name: 'kvm-a' });
      const res = await t.http
        .post(`${API}/vms`)
        .send({ clusterId: cluster.id, hostId: host.id, name: EVIL_VM, vcpus: 1, memoryMib: 1024 });
      expectProblem(res, 422, 'name');
    } finally {
      await t.close();
      removeTempDir(dir);
    }
  });
});
