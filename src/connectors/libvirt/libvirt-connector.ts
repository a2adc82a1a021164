// The libvirt connector: KVM/QEMU hosts each reached through its own libvirt URI, read with virsh.
// Every host is asked on its own: one that fails is reported unreachable and the others still answer.
import {
  ConnectorError,
  type Collection,
  type CollectedSample,
  type Connector,
  type ConnectorHost,
  type DiscoveredVm,
  type Discovery,
  type UnreachableHost,
} from '../connector';
import { LibvirtMigrationDriver, type LibvirtHostAccess, type LibvirtMigrationOptions } from './libvirt-migration-driver';
import { Virsh, type VirshOptions } from './virsh';
import {
  parseDomState,
  parseDomStats,
  parseNodeInfo,
  parseUuidNameList,
  type DomainStats,
  type ListedDomain,
  type NodeInfo,
} from './virsh-parse';

export interface LibvirtConnectorOptions {
  virsh: Partial<VirshOptions>;
  /** Ask libvirt to measure each running guest's dirty rate once every this many collections (0: never). */
  dirtyRateEvery: number;
  /** Length of one measurement (libvirt: 1–60 s); it runs in the background and is read at the next collection. */
  dirtyRateSeconds: number;
  migration: Partial<LibvirtMigrationOptions>;
  now: () => number;
}

export const DEFAULT_LIBVIRT_CONNECTOR_OPTIONS: LibvirtConnectorOptions = {
  virsh: {},
  dirtyRateEvery: 3,
  dirtyRateSeconds: 1,
  migration: {},
  now: () => Date.now(),
};

const URI = /^qemu(\+(ssh|tcp|tls|libssh|libssh2))?:\/\/[^\s]*\/(system|session)(\?[^\s]*)?$/;
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;
// Stats for inventory and utilization in one call per host: state, CPU time, vCPUs, balloon.
const STATS = ['domstats', '--raw', '--state', '--cpu-total', '--vcpu', '--balloon'];
/** Calls at once per host when asking for dirty-rate measurements. */
const CALC_CONCURRENCY = 4;

/** The host part of a libvirt URI ("qemu+ssh://root@kvm-01:22/system" → "kvm-01"), the default migration address. */
export function uriHost(uri: string): string | null {
  const match = /^[a-z+]+:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?]+)/i.exec(uri);
  return match ? match[1].replace(/^\[|\]$/g, '') : null;
}

/** Refuses settings a call could not use, naming the host and the field. */
export function validateHosts(hosts: readonly ConnectorHost[]): void {
  if (hosts.length === 0) throw new ConnectorError(null, 'invalid-settings', 'hosts: at least one host is needed');
  const names = new Set<string>();
  for (const [index, host] of hosts.entries()) {
    const where = `hosts[${index}]`;
    if (typeof host.name !== 'string' || host.name.trim() === '')
      throw new ConnectorError(null, 'invalid-settings', `${where}.name must be a non-empty string`);
    if (names.has(host.name)) throw new ConnectorError(host.name, 'invalid-settings', `${where}.name: ${host.name} is listed twice`);
    names.add(host.name);
    if (typeof host.uri !== 'string' || !URI.test(host.uri) || host.uri.startsWith('-')) {
      throw new ConnectorError(
        host.name,
        'invalid-settings',
        `${where}.uri must be a libvirt URI such as qemu+ssh://kvm-01/system or qemu+tcp://10.0.0.2/system`,
      );
    }
    const address = host.migrationAddress ?? uriHost(host.uri);
    if (!address || !ADDRESS.test(address)) {
      throw new ConnectorError(
        host.name,
        'invalid-settings',
        `${where}.migrationAddress must be a host name or an IP address (the URI names no host)`,
      );
    }
  }
}

type HostAnswer<T> = { value: T } | { error: UnreachableHost; cause: unknown };

export interface CpuCounter {
  cpuTimeNs: number;
  atMs: number;
}

/** Which copy of a domain seen on several hosts is the real one: the one that runs, else a paused one that is not an incoming migration. */
function rank(stats: DomainStats): number {
  if (stats.power === 'running') return 3;
  // state 3 reason 2: paused for a migration (the incoming copy on a target, or the source at switch-over)
  if (stats.power === 'paused') return stats.reason === 2 ? 0 : 2;
  return 1;
}

/**
 * The VMs of every host that answered, each once: a domain seen on two hosts (the paused copy an
 * incoming migration leaves on its target) is reported where it runs.
 */
export function discoveredVms(perHost: { host: string; listed: ListedDomain[]; stats: DomainStats[] }[]): DiscoveredVm[] {
  const seen = new Map<string, { vm: DiscoveredVm; rank: number }>();
  for (const { host, listed, stats } of perHost) {
    const byName = new Map(stats.map((s) => [s.name, s]));
    for (const { uuid, name } of listed) {
      const domain = byName.get(name);
      // Gone between the two calls.
      if (!domain) continue;
      const vm: DiscoveredVm = {
        externalId: uuid,
        name,
        vcpus: domain.vcpus ?? 1,
        memoryMib: Math.round(domain.balloonMaximumMib ?? domain.balloonCurrentMib ?? 0),
        power: domain.power,
        host,
      };
      const previous = seen.get(uuid);
      if (!previous || rank(domain) > previous.rank) seen.set(uuid, { vm, rank: rank(domain) });
    }
  }
  return [...seen.values()].map(({ vm }) => vm);
}

/**
 * A running guest's sample: CPU MHz from the CPU-time delta since `previous` (none for a guest seen for
 * the first time on this host, or restarted), memory from its balloon figures.
 */
export function sampleOf(
  host: string,
  mhzPerCore: number,
  domain: DomainStats,
  atMs: number,
  previous: CpuCounter | undefined,
): CollectedSample | null {
  if (domain.cpuTimeNs === undefined || !previous || domain.cpuTimeNs < previous.cpuTimeNs || atMs <= previous.atMs) return null;
  const cpuMhz = ((domain.cpuTimeNs - previous.cpuTimeNs) / ((atMs - previous.atMs) * 1e6)) * mhzPerCore;
  const current = domain.balloonCurrentMib ?? domain.balloonMaximumMib ?? 0;
  // QEMU's resident set includes its own overhead (under TCG a translation cache larger than the guest): the guest's share is at most its memory.
  const consumed = Math.min(current, domain.rssMib ?? current);
  const active = domain.unusedMib !== undefined ? current - domain.unusedMib : consumed;
  return {
    vmName: domain.name,
    hostName: host,
    timestamp: Math.round(atMs),
    cpuMhz: Math.round(cpuMhz),
    memoryActiveMib: Math.round(Math.max(0, Math.min(active, consumed))),
    memoryConsumedMib: Math.round(consumed),
    ...(domain.dirtyRateMibPerSecond !== undefined ? { memoryDirtyMibPerSecond: domain.dirtyRateMibPerSecond } : {}),
  };
}

export class LibvirtConnector implements Connector {
  readonly kind = 'libvirt';
  private readonly options: LibvirtConnectorOptions;
  private readonly access = new Map<string, LibvirtHostAccess>();
  private readonly nodeInfo = new Map<string, NodeInfo>();
  private readonly cpuCounters = new Map<string, Map<string, CpuCounter>>();
  private readonly noDirtyRate = new Set<string>();
  private collections = 0;
  private driver: LibvirtMigrationDriver | null = null;

  constructor(
    readonly hosts: readonly ConnectorHost[],
    options: Partial<LibvirtConnectorOptions> = {},
  ) {
    validateHosts(hosts);
    this.options = { ...DEFAULT_LIBVIRT_CONNECTOR_OPTIONS, ...options };
    for (const host of hosts) {
      this.access.set(host.name, {
        virsh: new Virsh(host.name, host.uri, this.options.virsh),
        migrationAddress: host.migrationAddress ?? uriHost(host.uri)!,
      });
    }
  }

  async discover(signal?: AbortSignal): Promise<Discovery> {
    const discovery: Discovery = { hosts: [], vms: [], unreachable: [] };
    const answers = await this.eachHost(async (host, virsh) => {
      const node = await this.node(host, virsh, signal, true);
      const [listed, stats] = await Promise.all([
        virsh.run(['list', '--all', '--uuid', '--name'], { signal }),
        virsh.run(STATS, { signal }),
      ]);
      return { node, listed: parseUuidNameList(listed), stats: parseDomStats(stats) };
    });
    for (const [host, answer] of answers) {
      if ('error' in answer) {
        discovery.unreachable.push(answer.error);
        continue;
      }
      const { node } = answer.value;
      discovery.hosts.push({ name: host, cpuCores: node.cpus, cpuMhzPerCore: node.cpuMhz, memoryMib: node.memoryMib });
    }
    discovery.vms = discoveredVms(answers.flatMap(([host, answer]) => ('value' in answer ? [{ host, ...answer.value }] : [])));
    return discovery;
  }

  async collect(signal?: AbortSignal): Promise<Collection> {
    const round = this.collections++;
    const measure = this.options.dirtyRateEvery > 0 && round % this.options.dirtyRateEvery === 0;
    const samples: CollectedSample[] = [];
    const unreachable: UnreachableHost[] = [];
    const answers = await this.eachHost(async (host, virsh) => {
      const node = await this.node(host, virsh, signal, false);
      const startedAt = this.options.now();
      const dirtyRate = !this.noDirtyRate.has(host) && this.options.dirtyRateEvery > 0;
      const text = await virsh.run(dirtyRate ? [...STATS, '--dirtyrate'] : STATS, { signal }).catch(async (error: unknown) => {
        // A daemon older than libvirt 7.2 knows no --dirtyrate: go on without it.
        if (!dirtyRate || !(error instanceof ConnectorError) || error.reason === 'unreachable' || error.reason === 'timeout') throw error;
        this.noDirtyRate.add(host);
        return virsh.run(STATS, { signal });
      });
      // The midpoint of the call: both ends of a CPU-time delta are read the same way.
      const atMs = (startedAt + this.options.now()) / 2;
      const stats = parseDomStats(text);
      if (measure && !this.noDirtyRate.has(host)) {
        await this.requestDirtyRates(
          host,
          stats.filter((domain) => domain.power === 'running'),
          signal,
        );
      }
      return { node, stats, atMs };
    });
    for (const [host, answer] of answers) {
      if ('error' in answer) {
        unreachable.push(answer.error);
        continue;
      }
      const { node, stats, atMs } = answer.value;
      const previous = this.cpuCounters.get(host);
      // Rebuilt every time: counters of guests this host no longer runs (stopped, migrated away) go.
      const counters = new Map<string, CpuCounter>();
      for (const domain of stats.filter((d) => d.power === 'running')) {
        const sample = sampleOf(host, node.cpuMhz, domain, atMs, previous?.get(domain.name));
        if (sample) samples.push(sample);
        if (domain.cpuTimeNs !== undefined) counters.set(domain.name, { cpuTimeNs: domain.cpuTimeNs, atMs });
      }
      this.cpuCounters.set(host, counters);
    }
    return { samples, unreachable };
  }

  /** Starts libvirt's dirty-rate measurement on each running guest; it runs in the background and the next collection reads it. */
  private async requestDirtyRates(host: string, running: DomainStats[], signal?: AbortSignal): Promise<void> {
    const virsh = this.access.get(host)!.virsh;
    const queue = [...running];
    const worker = async () => {
      for (let domain = queue.shift(); domain; domain = queue.shift()) {
        try {
          await virsh.run(['domdirtyrate-calc', domain.name, '--seconds', String(this.options.dirtyRateSeconds)], { signal });
        } catch (error) {
          // Unsupported by this daemon (or this guest stopped meanwhile): only the former is remembered.
          if (error instanceof ConnectorError && /not supported|unknown command/i.test(error.message)) this.noDirtyRate.add(host);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CALC_CONCURRENCY, queue.length) }, worker));
  }

  async locate(vmName: string): Promise<string | null> {
    const answers = await this.eachHost(async (_host, virsh) => {
      try {
        return parseDomState(await virsh.run(['domstate', '--reason', vmName]));
      } catch (error) {
        if (error instanceof ConnectorError && error.reason === 'not-found') return null;
        throw error;
      }
    });
    let found: string | null = null;
    for (const [host, answer] of answers) {
      if ('error' in answer) {
        throw answer.cause instanceof ConnectorError ? answer.cause : new ConnectorError(host, 'other', answer.error.error);
      }
      const state = answer.value;
      if (!state) continue;
      if (state.state === 'running' || state.state === 'idle' || state.state === 'in shutdown') return host;
      // Paused by someone (not the incoming copy of a migration): the guest is still there.
      if (state.state === 'paused' && state.reason !== 'migrating') found ??= host;
    }
    return found;
  }

  migrationDriver(): LibvirtMigrationDriver {
    this.driver ??= new LibvirtMigrationDriver((name) => this.access.get(name), this.options.migration);
    return this.driver;
  }

  async close(): Promise<void> {
    // Nothing held open: every call is its own virsh process. Counters go, so a reused instance primes again.
    this.cpuCounters.clear();
  }

  private async node(host: string, virsh: Virsh, signal: AbortSignal | undefined, refresh: boolean): Promise<NodeInfo> {
    const cached = this.nodeInfo.get(host);
    if (cached && !refresh) return cached;
    const node = parseNodeInfo(await virsh.run(['nodeinfo'], { signal }));
    this.nodeInfo.set(host, node);
    return node;
  }

  /** Runs `fn` for every host at once; each answer or error is kept apart, in the order of the settings. */
  private async eachHost<T>(fn: (host: string, virsh: Virsh) => Promise<T>): Promise<[string, HostAnswer<T>][]> {
    return Promise.all(
      this.hosts.map(async (host): Promise<[string, HostAnswer<T>]> => {
        try {
          return [host.name, { value: await fn(host.name, this.access.get(host.name)!.virsh) }];
        } catch (cause) {
          const message = cause instanceof Error ? cause.message : String(cause);
          return [host.name, { error: { host: host.name, error: message }, cause }];
        }
      }),
    );
  }
}
