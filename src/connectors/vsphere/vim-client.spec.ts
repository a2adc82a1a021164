// The client against a local server that answers with responses captured from vcsim (testdata/): session, faults,
// network failures and TLS, without a simulator.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConnectorError } from '../connector';
import { VimClient } from './vim-client';

const testdata = (file: string) => readFileSync(join(__dirname, 'testdata', file), 'utf8');
const CERT = testdata('tls-test-cert.pem');
const KEY = testdata('tls-test-key.pem');
const CERT_SHA256 = '2C:9B:16:EA:E4:DB:E1:BF:D6:0B:6D:15:0F:42:BC:AE:7C:4F:FA:53:65:92:C5:AE:13:0A:AD:25:A0:61:3D:D6';
const PASSWORD = 'S3cret<&>"pw';

interface Seen {
  method: string;
  cookie: string | undefined;
  soapAction: string | undefined;
  body: string;
}

type Answer = { status: number; file: string; cookie?: string } | 'hang';

/** A fake SDK endpoint: answers each SOAP method with the captured file `answer` picks. */
async function fakeVcenter(answer: (method: string, seen: Seen[]) => Answer, secure = false) {
  const seen: Seen[] = [];
  const handler: http.RequestListener = (request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const method = /<(\w+) xmlns="urn:vim25">/.exec(body)?.[1] ?? '';
      seen.push({ method, cookie: request.headers.cookie, soapAction: request.headers.soapaction as string | undefined, body });
      const result = answer(method, seen);
      if (result === 'hang') return;
      const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'text/xml' };
      if (result.cookie) headers['Set-Cookie'] = `vmware_soap_session=${result.cookie}; Path=/; HttpOnly`;
      response.writeHead(result.status, headers).end(result.file.startsWith('<') ? result.file : testdata(result.file));
    });
  };
  const server = secure ? https.createServer({ cert: CERT, key: KEY }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}/sdk`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The usual answers: service content, a session for the right password, empty results otherwise. */
const vcenter =
  (overrides: Record<string, (seen: Seen[]) => Answer | undefined> = {}) =>
  (method: string, seen: Seen[]): Answer => {
    const override = overrides[method]?.(seen);
    if (override) return override;
    if (method === 'RetrieveServiceContent') return { status: 200, file: 'service-content.xml' };
    if (method === 'Login') {
      return seen.at(-1)!.body.includes('<password>S3cret&lt;&amp;&gt;&quot;pw</password>')
        ? {
            status: 200,
            file: '<x:Envelope xmlns:x="s"><x:Body><LoginResponse xmlns="urn:vim25"><returnval/></LoginResponse></x:Body></x:Envelope>',
            cookie: `s${seen.length}`,
          }
        : { status: 500, file: 'fault-invalid-login.xml' };
    }
    if (method === 'RelocateVM_Task') return { status: 200, file: 'relocate.xml' };
    return { status: 200, file: 'task-success.xml' };
  };

const servers: { close(): Promise<void> }[] = [];
const clients: VimClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(
  answer: (method: string, seen: Seen[]) => Answer,
  options: Partial<ConstructorParameters<typeof VimClient>[0]> = {},
  secure = false,
) {
  const server = await fakeVcenter(answer, secure);
  servers.push(server);
  const client = new VimClient({ url: server.url, username: 'ops@vsphere.local', password: PASSWORD, timeoutMs: 2_000, ...options });
  clients.push(client);
  return { server, client };
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('VimClient session', () => {
  it('logs in with the escaped password, keeps the session cookie and sends the server API version as SOAPAction', async () => {
    const { server, client } = await setup(vcenter());
    await client.connect();
    await client.relocateVm({ type: 'VirtualMachine', value: 'vm-28' }, { type: 'HostSystem', value: 'host-24' });
    expect(server.seen.map((s) => s.method)).toEqual(['RetrieveServiceContent', 'Login', 'RelocateVM_Task']);
    expect(server.seen[2].cookie).toBe('vmware_soap_session=s2');
    expect(server.seen[2].soapAction).toBe('urn:vim25/6.5');
    expect(server.seen[2].body).toContain('<spec><host type="HostSystem">host-24</host></spec><priority>defaultPriority</priority>');
  });

  it('a wrong password is an auth error that names the fault and never the password', async () => {
    const { client } = await setup(vcenter(), { password: 'wrong<&>' });
    const error = await failure(client.connect());
    expect(error.reason).toBe('auth');
    expect(error.message).toMatch(/Login: Login failure \(InvalidLogin\); check the connector's user name and password/);
    expect(error.message).not.toContain('wrong');
  });

  it('logs in again once, transparently, when the session expired (NotAuthenticated)', async () => {
    let expired = true;
    const { server, client } = await setup(
      vcenter({
        RelocateVM_Task: () => (expired ? ((expired = false), { status: 500, file: 'fault-not-authenticated.xml' }) : undefined),
      }),
    );
    await client.connect();
    const task = await client.relocateVm({ type: 'VirtualMachine', value: 'vm-28' }, { type: 'HostSystem', value: 'host-24' });
    expect(task).toEqual({ type: 'Task', value: 'task-40' });
    expect(server.seen.map((s) => s.method)).toEqual(['RetrieveServiceContent', 'Login', 'RelocateVM_Task', 'Login', 'RelocateVM_Task']);
    expect(server.seen[4].cookie).toBe('vmware_soap_session=s4');
  });

  it('gives up with an auth error when the new session is refused too', async () => {
    const { server, client } = await setup(vcenter({ RelocateVM_Task: () => ({ status: 500, file: 'fault-not-authenticated.xml' }) }));
    const error = await failure(client.relocateVm({ type: 'VirtualMachine', value: 'vm-28' }, { type: 'HostSystem', value: 'host-24' }));
    expect(error.reason).toBe('auth');
    expect(server.seen.filter((s) => s.method === 'RelocateVM_Task')).toHaveLength(2);
  });
});

describe('VimClient faults and failures', () => {
  it.each([
    ['fault-not-found.xml', 'not-found', /The object has already been deleted .*\(ManagedObjectNotFound\)/],
    ['fault-invalid-state.xml', 'refused', /The operation is not allowed in the current state\. \(InvalidState\)/],
  ])('%s becomes a ConnectorError with reason %s', async (file, reason, message) => {
    const { client } = await setup(vcenter({ CancelTask: () => ({ status: 500, file }) }));
    const error = await failure(client.cancelTask({ type: 'Task', value: 'task-40' }));
    expect(error.reason).toBe(reason);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^vCenter 127\.0\.0\.1:\d+: CancelTask: /);
  });

  it('nothing listening: unreachable, saying so', async () => {
    const { server, client } = await setup(vcenter());
    await server.close();
    servers.length = 0;
    const error = await failure(client.connect());
    expect(error.reason).toBe('unreachable');
    expect(error.message).toMatch(/connection refused/);
  });

  it('no answer within the time limit: timeout', async () => {
    const { client } = await setup(() => 'hang', { timeoutMs: 300 });
    const started = Date.now();
    const error = await failure(client.connect());
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/RetrieveServiceContent got no answer within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an aborted call stops at once', async () => {
    const { client } = await setup(() => 'hang', { timeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(client.connect({ signal: controller.signal }));
    expect(error.message).toMatch(/cancelled/);
  });

  it('an endpoint that is not the SDK: the HTTP status and a hint', async () => {
    const { client } = await setup(() => ({ status: 404, file: '<html>not found</html>' }));
    const error = await failure(client.connect());
    expect(error.reason).toBe('other');
    expect(error.message).toMatch(/HTTP 404 \(is http:\/\/127\.0\.0\.1:\d+\/sdk vCenter's SDK endpoint\?\)/);
  });
});

describe('VimClient TLS', () => {
  it('accepts the certificate whose SHA-256 thumbprint is pinned (colons or not, any case)', async () => {
    const { client } = await setup(vcenter(), { thumbprintSha256: CERT_SHA256.toLowerCase().replace(/:/g, '') }, true);
    await expect(client.connect()).resolves.toMatchObject({ apiVersion: '6.5' });
  });

  it('refuses another certificate before sending anything, naming both thumbprints', async () => {
    const pinned = 'AA:'.repeat(31) + 'AA';
    const { server, client } = await setup(vcenter(), { thumbprintSha256: pinned }, true);
    const error = await failure(client.connect());
    expect(error.reason).toBe('auth');
    expect(error.message).toContain(`the server's certificate (SHA-256 ${CERT_SHA256}) does not match the pinned thumbprint ${pinned}`);
    expect(server.seen).toEqual([]);
  });

  it('accepts a certificate that chains to the configured CA PEM', async () => {
    const { client } = await setup(vcenter(), { caPem: CERT }, true);
    await expect(client.connect()).resolves.toMatchObject({ apiVersion: '6.5' });
  });

  it('refuses an untrusted certificate and says how to trust it', async () => {
    const { server, client } = await setup(vcenter(), {}, true);
    const error = await failure(client.connect());
    expect(error.reason).toBe('auth');
    expect(error.message).toMatch(/certificate is not trusted .*CA certificate \(PEM\) or pin the certificate's SHA-256 thumbprint/);
    expect(server.seen).toEqual([]);
  });

  it('a thumbprint that is not a SHA-256 is an invalid setting', () => {
    expect(() => new VimClient({ url: 'https://vc/sdk', username: 'u', password: 'p', thumbprintSha256: 'AB:CD' })).toThrow(
      expect.objectContaining({ reason: 'invalid-settings' }),
    );
  });
});

describe('InventoryWatcher', () => {
  // CreatePropertyCollector and CreateFilter only return a reference; the updates are vcsim's (testdata).
  const reference = (method: string, type: string, value: string) =>
    `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><${method}Response xmlns="urn:vim25">` +
    `<returnval type="${type}">${value}</returnval></${method}Response></s:Body></s:Envelope>`;

  it('reads everything first, then applies only the changes (vm-28 moved to host-24), with the version it was given', async () => {
    const { server, client } = await setup(
      vcenter({
        CreatePropertyCollector: () => ({ status: 200, file: reference('CreatePropertyCollector', 'PropertyCollector', 'pc-1') }),
        CreateFilter: () => ({ status: 200, file: reference('CreateFilter', 'PropertyFilter', 'filter-1') }),
        WaitForUpdatesEx: (seen) => ({
          status: 200,
          file:
            seen.filter((s) => s.method === 'WaitForUpdatesEx').length === 1 ? 'wait-for-updates-full.xml' : 'wait-for-updates-modify.xml',
        }),
      }),
    );
    const watcher = client.watchInventory({ type: 'ClusterComputeResource', value: 'clustercomputeresource-10' });
    const first = await watcher.read();
    expect(watcher.lastRead).toBe('full');
    expect(first.vms.map((v) => [v.ref.value, v.hostRef?.value])).toEqual([
      ['vm-28', 'host-17'],
      ['vm-34', 'host-24'],
      ['vm-37', 'host-24'],
      ['vm-31', 'host-17'],
    ]);
    const second = await watcher.read();
    expect(watcher.lastRead).toBe('incremental');
    expect(second.vms.find((v) => v.ref.value === 'vm-28')).toEqual({
      ...first.vms.find((v) => v.ref.value === 'vm-28'),
      hostRef: host('host-24'),
    });
    expect(second.vms.filter((v) => v.ref.value !== 'vm-28')).toEqual(first.vms.filter((v) => v.ref.value !== 'vm-28'));
    const waits = server.seen.filter((s) => s.method === 'WaitForUpdatesEx');
    expect(waits[0].body).toContain('<version></version><options><maxWaitSeconds>0</maxWaitSeconds></options>');
    expect(waits[1].body).toContain('<version>-</version>');
    expect(waits[1].body).toContain('<_this type="PropertyCollector">pc-1</_this>');
  });
});

const host = (value: string) => ({ type: 'HostSystem', value });
