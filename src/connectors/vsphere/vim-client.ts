// A small vim25 SOAP client for the calls the vSphere connector makes: one session (the vmware_soap_session cookie,
// logged in again once when it expires), keep-alive HTTP(S), a time limit and an AbortSignal per call, TLS checked
// against a CA file or a pinned SHA-256 thumbprint, and every failure turned into a ConnectorError an operator can act on.
import * as http from 'node:http';
import * as https from 'node:https';
import { ConnectorError } from '../connector';
import { buildEnvelope, moRef, parseEnvelope, Ref, Typed, type MoRef, type SoapFields, type XNode } from './soap-xml';
import {
  clusterFromProps,
  parsePerfCounters,
  parseQueryPerf,
  perfQuery,
  parseRetrieveResult,
  parseRules,
  parseServiceContent,
  parseTaskInfo,
  quickStatsFromObjects,
  type About,
  type EntityPerf,
  type ObjectProps,
  type QuickStats,
  type ServiceContent,
  type TaskInfo,
  type VsphereCluster,
  type VsphereInventory,
  type VsphereRules,
} from './vim-parse';
import { NETWORK_CODES, toConnectorError, VimFault } from './vim-faults';
import { INVENTORY_PROPS, InventoryWatcher, inventoryFromObjects, inventorySpec, QUICK_STATS_PROPS } from './vim-inventory';
import { normalizeThumbprint, PinnedAgent } from './vim-tls';

export interface VimClientOptions {
  /** The SDK endpoint, e.g. https://vcenter.example.com/sdk (http:// only for a simulator). */
  url: string;
  username: string;
  password: string;
  /** PEM of the CA (or the self-signed certificate) the server's certificate must chain to. */
  caPem?: string;
  /** SHA-256 of the server's certificate (hex, colons allowed): that certificate and no other is accepted. */
  thumbprintSha256?: string;
  /** Per call. */
  timeoutMs: number;
  /** RetrievePropertiesEx page size. */
  pageSize: number;
  /** SOAPAction version until the server's own is known. */
  apiVersion: string;
  /** Sees every response as it came (status and body; never the request, which may hold the password). */
  onResponse?: (method: string, status: number, body: string) => void;
}

export const DEFAULT_VIM_OPTIONS = { timeoutMs: 30_000, pageSize: 1000, apiVersion: '6.5' };

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

interface HttpResult {
  status: number;
  body: string;
  setCookie: string[];
}

export class VimClient {
  readonly options: VimClientOptions;
  private readonly endpoint: URL;
  private readonly agent: http.Agent;
  private cookie: string | undefined;
  private apiVersion: string;
  private content: ServiceContent | undefined;
  private loggingIn: Promise<void> | undefined;
  private counters: Promise<Map<string, number>> | undefined;

  constructor(options: Partial<VimClientOptions> & Pick<VimClientOptions, 'url' | 'username' | 'password'>) {
    this.options = { ...DEFAULT_VIM_OPTIONS, ...options };
    this.apiVersion = this.options.apiVersion;
    try {
      this.endpoint = new URL(this.options.url);
    } catch {
      throw new ConnectorError(null, 'invalid-settings', `the vCenter URL ${this.options.url} is not a URL`);
    }
    if (this.endpoint.protocol !== 'https:' && this.endpoint.protocol !== 'http:') {
      throw new ConnectorError(null, 'invalid-settings', `the vCenter URL must start with https:// (got ${this.endpoint.protocol})`);
    }
    const keepAlive = { keepAlive: true, maxSockets: 4 };
    if (this.endpoint.protocol === 'http:') {
      this.agent = new http.Agent(keepAlive);
    } else if (this.options.thumbprintSha256) {
      this.agent = new PinnedAgent(normalizeThumbprint(this.options.thumbprintSha256), keepAlive);
    } else {
      this.agent = new https.Agent({ ...keepAlive, ca: this.options.caPem, rejectUnauthorized: true });
    }
  }

  private get where(): string {
    return `vCenter ${this.endpoint.host}`;
  }

  // Transport

  private post(method: string, xml: string, call: CallOptions): Promise<HttpResult> {
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    const transport = this.endpoint.protocol === 'https:' ? https : http;
    return new Promise<HttpResult>((resolve, reject) => {
      if (call.signal?.aborted) {
        reject(new ConnectorError(null, 'other', `${this.where}: ${method} cancelled`));
        return;
      }
      let settled = false;
      const finish = (error: ConnectorError | null, result?: HttpResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        call.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(result!);
      };
      const headers: http.OutgoingHttpHeaders = {
        'Content-Type': 'text/xml; charset=utf-8',
        SOAPAction: `urn:vim25/${this.apiVersion}`,
        'Content-Length': Buffer.byteLength(xml),
        'User-Agent': 'drs-scheduler',
      };
      if (this.cookie) headers.Cookie = this.cookie;
      const request = transport.request(this.endpoint, { method: 'POST', agent: this.agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => finish(this.networkError(method, error)));
        response.on('end', () => {
          const setCookie = response.headers['set-cookie'] ?? [];
          finish(null, { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), setCookie });
        });
      });
      const timer = setTimeout(() => {
        request.destroy();
        finish(new ConnectorError(null, 'timeout', `${this.where}: ${method} got no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onAbort = () => {
        request.destroy();
        finish(new ConnectorError(null, 'other', `${this.where}: ${method} cancelled`));
      };
      call.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => finish(this.networkError(method, error)));
      request.end(xml);
    });
  }

  private networkError(method: string, error: Error & { code?: string }): ConnectorError {
    const code = error.code ?? '';
    if (code === 'ERR_THUMBPRINT_MISMATCH') return new ConnectorError(null, 'auth', `${this.where}: ${error.message}`);
    if (NETWORK_CODES[code]) return new ConnectorError(null, 'unreachable', `${this.where}: ${method}: ${NETWORK_CODES[code]}`);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new ConnectorError(
        null,
        'auth',
        `${this.where}: the server's TLS certificate is not trusted (${code}: ${error.message}); ` +
          "give the connector vCenter's CA certificate (PEM) or pin the certificate's SHA-256 thumbprint",
      );
    }
    return new ConnectorError(null, 'unreachable', `${this.where}: ${method}: ${error.message}`);
  }

  /** One SOAP call: the response's returnval elements, or a ConnectorError for the fault. */
  private async raw(method: string, self: MoRef, args: SoapFields, call: CallOptions): Promise<XNode[]> {
    const result = await this.post(method, buildEnvelope(method, self, args), call);
    this.options.onResponse?.(method, result.status, result.body);
    for (const cookie of result.setCookie) {
      const pair = cookie.split(';')[0].trim();
      if (pair.startsWith('vmware_soap_session=')) this.cookie = pair;
    }
    if (result.status !== 200 && result.status !== 500) {
      throw new ConnectorError(
        null,
        result.status === 401 || result.status === 403 ? 'auth' : 'other',
        `${this.where}: ${method}: HTTP ${result.status} (is ${this.endpoint.href} vCenter's SDK endpoint?)`,
      );
    }
    let parsed;
    try {
      parsed = parseEnvelope(result.body);
    } catch (error) {
      throw new ConnectorError(null, 'other', `${this.where}: ${method}: the answer is not a SOAP response (${(error as Error).message})`);
    }
    if (!parsed.ok) throw new VimFault(method, parsed.fault, this.where);
    return parsed.returnval;
  }

  /** A call in the session: logs in first if needed, and once more when the session expired. */
  private async call(method: string, self: MoRef, args: SoapFields = {}, call: CallOptions = {}): Promise<XNode[]> {
    if (!this.cookie) await this.login(call);
    try {
      return await this.raw(method, self, args, call);
    } catch (error) {
      if (!(error instanceof VimFault) || error.fault.type !== 'NotAuthenticated') throw toConnectorError(error);
      this.cookie = undefined;
      await this.login(call);
      try {
        return await this.raw(method, self, args, call);
      } catch (again) {
        throw toConnectorError(again);
      }
    }
  }

  private login(call: CallOptions): Promise<void> {
    // Concurrent calls that find no session share one login.
    this.loggingIn ??= (async () => {
      try {
        const content = await this.serviceContent(call);
        await this.raw('Login', content.sessionManager, { userName: this.options.username, password: this.options.password }, call);
      } catch (error) {
        this.cookie = undefined;
        throw toConnectorError(error);
      } finally {
        this.loggingIn = undefined;
      }
    })();
    return this.loggingIn;
  }

  private async serviceContent(call: CallOptions = {}): Promise<ServiceContent> {
    if (!this.content) {
      let returnval: XNode[];
      try {
        returnval = await this.raw('RetrieveServiceContent', { type: 'ServiceInstance', value: 'ServiceInstance' }, {}, call);
      } catch (error) {
        throw toConnectorError(error);
      }
      this.content = parseServiceContent(returnval[0] ?? '');
      if (this.content.about.apiVersion) this.apiVersion = this.content.about.apiVersion;
    }
    return this.content;
  }

  // Session

  /** RetrieveServiceContent and Login. */
  async connect(call: CallOptions = {}): Promise<About> {
    await this.login(call);
    return this.content!.about;
  }

  get about(): About | undefined {
    return this.content?.about;
  }

  /** Logout (best effort) and close the kept-alive connections. */
  async close(): Promise<void> {
    if (this.cookie && this.content) {
      await this.raw('Logout', this.content.sessionManager, {}, { timeoutMs: 5_000 }).catch(() => undefined);
    }
    this.cookie = undefined;
    this.agent.destroy();
  }

  // PropertyCollector

  /** RetrievePropertiesEx and its ContinueRetrievePropertiesEx pages. */
  async retrieve(specSet: SoapFields | SoapFields[], call: CallOptions = {}): Promise<ObjectProps[]> {
    const { propertyCollector } = await this.serviceContent(call);
    const [first] = await this.call(
      'RetrievePropertiesEx',
      propertyCollector,
      { specSet, options: { maxObjects: this.options.pageSize } },
      call,
    );
    let page = parseRetrieveResult(first);
    const objects = [...page.objects];
    while (page.token) {
      const [next] = await this.call('ContinueRetrievePropertiesEx', propertyCollector, { token: page.token }, call);
      page = parseRetrieveResult(next);
      objects.push(...page.objects);
    }
    return objects;
  }

  /** Properties of single objects. */
  async properties(refs: MoRef[], type: string, paths: string[], call: CallOptions = {}): Promise<ObjectProps[]> {
    return this.retrieve(
      {
        propSet: [{ type, pathSet: paths }],
        objectSet: refs.map((ref) => ({ obj: new Ref(ref), skip: false })),
      },
      call,
    );
  }

  async clusters(call: CallOptions = {}): Promise<VsphereCluster[]> {
    const content = await this.serviceContent(call);
    const [view] = await this.call(
      'CreateContainerView',
      content.viewManager,
      { container: new Ref(content.rootFolder), type: ['ClusterComputeResource'], recursive: true },
      call,
    );
    const viewRef = moRef(view)!;
    try {
      const objects = await this.retrieve(
        {
          propSet: [{ type: 'ClusterComputeResource', pathSet: ['name', 'configurationEx'] }],
          objectSet: {
            obj: new Ref(viewRef),
            skip: true,
            selectSet: new Typed('TraversalSpec', { name: 'view', type: 'ContainerView', path: 'view', skip: false }),
          },
        },
        call,
      );
      return objects.map(clusterFromProps).sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      await this.call('DestroyView', viewRef, {}, { timeoutMs: 5_000 }).catch(() => undefined);
    }
  }

  async inventory(clusterRef: MoRef, call: CallOptions = {}): Promise<VsphereInventory> {
    return inventoryFromObjects(await this.retrieve(inventorySpec(clusterRef, INVENTORY_PROPS), call));
  }

  /** Watches a cluster's inventory; read() returns the whole inventory, fetching only what changed since the last read. */
  watchInventory(clusterRef: MoRef): InventoryWatcher {
    return new InventoryWatcher(this, clusterRef);
  }

  async rules(clusterRef: MoRef, call: CallOptions = {}): Promise<VsphereRules> {
    const [cluster] = await this.properties([clusterRef], 'ClusterComputeResource', ['configurationEx'], call);
    if (!cluster) throw new ConnectorError(null, 'not-found', `${this.where}: no cluster ${clusterRef.value}`);
    return parseRules(cluster.props.get('configurationEx'));
  }

  async quickStats(clusterRef: MoRef, call: CallOptions = {}): Promise<QuickStats> {
    return quickStatsFromObjects(await this.retrieve(inventorySpec(clusterRef, QUICK_STATS_PROPS), call));
  }

  // PerformanceManager

  /** Counter ids by name (cpu.usagemhz.average, ...), read once per client. */
  perfCounters(call: CallOptions = {}): Promise<Map<string, number>> {
    this.counters ??= (async () => {
      const { perfManager } = await this.serviceContent(call);
      const [manager] = await this.properties([perfManager], 'PerformanceManager', ['perfCounter'], call);
      return parsePerfCounters(manager?.props.get('perfCounter'));
    })().catch((error: unknown) => {
      this.counters = undefined;
      throw error;
    });
    return this.counters;
  }

  /**
   * Realtime (20 s) samples of the named counters for each entity, oldest first, since `since` (epoch ms; default:
   * the latest sample only). Counters the server does not have are left out of the samples.
   */
  async queryPerf(entityRefs: MoRef[], counterNames: string[], since?: number, call: CallOptions = {}): Promise<EntityPerf[]> {
    if (entityRefs.length === 0) return [];
    const query = perfQuery(entityRefs, await this.perfCounters(call), counterNames, since, Date.now());
    if (!query) return entityRefs.map((entity) => ({ entity, samples: [] }));
    const { perfManager } = await this.serviceContent(call);
    return parseQueryPerf(await this.call('QueryPerf', perfManager, { querySpec: query.querySpec }, call), query.names);
  }

  // Migration

  /** Starts a vMotion of the VM to the host (and resource pool); resolves the task's reference. */
  async relocateVm(vmRef: MoRef, hostRef: MoRef, poolRef?: MoRef, call: CallOptions = {}): Promise<MoRef> {
    const spec = { pool: poolRef ? new Ref(poolRef) : undefined, host: new Ref(hostRef) };
    const [task] = await this.call('RelocateVM_Task', vmRef, { spec, priority: 'defaultPriority' }, call);
    const ref = moRef(task);
    if (!ref) throw new ConnectorError(null, 'other', `${this.where}: RelocateVM_Task returned no task`);
    return ref;
  }

  async taskInfo(taskRef: MoRef, call: CallOptions = {}): Promise<TaskInfo> {
    const [task] = await this.properties([taskRef], 'Task', ['info'], call);
    if (!task) throw new ConnectorError(null, 'not-found', `${this.where}: task ${taskRef.value} no longer exists`);
    return parseTaskInfo(taskRef, task.props.get('info'));
  }

  async cancelTask(taskRef: MoRef, call: CallOptions = {}): Promise<void> {
    await this.call('CancelTask', taskRef, {}, call);
  }

  /** The host whose runtime the VM is on, or null when it has none. */
  async vmHost(vmRef: MoRef, call: CallOptions = {}): Promise<MoRef | null> {
    const [vm] = await this.properties([vmRef], 'VirtualMachine', ['runtime.host'], call);
    if (!vm) throw new ConnectorError(null, 'not-found', `${this.where}: no VM ${vmRef.value}`);
    return moRef(vm.props.get('runtime.host')) ?? null;
  }

  /** A call in the session, for what has no typed method here (the watcher's PropertyCollector calls). */
  async invoke(method: string, self: MoRef, args: SoapFields, call: CallOptions = {}): Promise<XNode[]> {
    return this.call(method, self, args, call);
  }

  async propertyCollector(call: CallOptions = {}): Promise<MoRef> {
    return (await this.serviceContent(call)).propertyCollector;
  }
}
