// A Proxmox VE cluster read through its API: nodes and guests (VMs and containers) from /cluster/resources, node
// capacity from each node's status, HA rules and ProxLB tags imported read-only, utilization from /cluster/resources
// (with the last hour of RRD data on the first collection), and live migrations through qemu-server or the HA manager.
// Guests PVE (or its own balancer) keeps where they are count for load but are held, each with the reason.
import type { MigrationDriver } from '../../live-migration/drivers/migration-driver';
import {
  ConnectorError,
  type CollectedSample,
  type Collection,
  type Connector,
  type DiscoveredHost,
  type DiscoveredPower,
  type DiscoveredVm,
  type Discovery,
  type UnreachableHost,
} from '../connector';
import type { PveClient } from './pve-client';
import { haAutoRebalance, inventoryNames, parseCrs, parseResources, proxlbTags, type PveGuest, type PveNode } from './pve-parse';
import { ProxmoxMigrationDriver, type ProxmoxMigrationOptions } from './proxmox-migration-driver';
import { platformRulesOf, type PveHaRule } from './proxmox-rules';

const MIB = 1024 * 1024;
/** Capacity does not change without a reboot: read again after this, or when a node comes back. */
const NODE_STATUS_TTL_MS = 10 * 60_000;
/** Local disks change with a config edit: read again after this. */
const LOCAL_DISKS_TTL_MS = 5 * 60_000;

export const CONTAINER_HELD = 'a container (Proxmox VE moves containers only by restart)';
export const CRS_HELD = "HA-managed while Proxmox VE's CRS rebalances HA guests";

export interface ProxmoxConnectorOptions {
  allowLocalDisks: boolean;
  migration: Partial<ProxmoxMigrationOptions>;
}

/** What one read of the cluster found: where every guest is, which are HA-managed, and what the HA manager says. */
export interface ClusterView {
  nodes: PveNode[];
  guests: PveGuest[];
  /** VMID → the guest's name in the inventory. */
  names: Map<number, string>;
  byName: Map<string, PveGuest>;
}

export interface HaView {
  /** `vm:100` → its HA service status (node, state, target). */
  services: Map<string, { node?: string; state?: string; target?: string }>;
  /** Nodes in HA maintenance. */
  maintenance: Set<string>;
  crs: Record<string, string>;
}

interface Capacity {
  host: DiscoveredHost;
  at: number;
}

interface Movability {
  localDisks: string[];
  localResources: string[];
  at: number;
}

const POWER: Record<string, DiscoveredPower> = { running: 'running', paused: 'paused', suspended: 'paused', stopped: 'stopped' };

export class ProxmoxConnector implements Connector {
  readonly kind = 'proxmox';
  private view: ClusterView | null = null;
  private driver: ProxmoxMigrationDriver | null = null;
  private readonly capacity = new Map<string, Capacity>();
  private readonly movability = new Map<number, Movability>();
  private discovered = false;
  private backfilled = false;

  constructor(
    readonly api: PveClient,
    private readonly options: ProxmoxConnectorOptions,
  ) {}

  /** /cluster/resources, read again. */
  async read(signal?: AbortSignal): Promise<ClusterView> {
    const { nodes, guests } = parseResources(await this.api.get('/cluster/resources', {}, { signal }));
    const names = inventoryNames(guests);
    const view = { nodes, guests, names, byName: new Map(guests.map((g) => [names.get(g.vmid)!, g])) };
    this.view = view;
    return view;
  }

  /** The HA manager's view: services, nodes in maintenance, and the datacenter's CRS options. */
  async readHa(signal?: AbortSignal): Promise<HaView> {
    const [options, manager] = await Promise.all([
      this.api.get<Record<string, unknown>>('/cluster/options', {}, { signal }),
      this.api.get<Record<string, unknown>>('/cluster/ha/status/manager_status', {}, { signal }),
    ]);
    const status = (manager?.manager_status ?? {}) as Record<string, unknown>;
    const services = new Map(
      Object.entries((status.service_status ?? {}) as Record<string, { node?: string; state?: string; target?: string }>),
    );
    const maintenance = new Set<string>();
    for (const [node, state] of Object.entries((status.node_status ?? {}) as Record<string, string>))
      if (state === 'maintenance') maintenance.add(node);
    for (const [node, lrm] of Object.entries((manager?.lrm_status ?? {}) as Record<string, { mode?: string }>))
      if (lrm?.mode === 'maintenance') maintenance.add(node);
    return { services, maintenance, crs: parseCrs(options?.crs) };
  }

  /** Every HA-managed guest's SID, from the HA resources' configuration (a service may not have a status yet). */
  private async haSids(signal?: AbortSignal): Promise<Set<string>> {
    const resources = await this.api.get<Array<{ sid?: string }>>('/cluster/ha/resources', {}, { signal });
    return new Set((resources ?? []).flatMap((r) => (typeof r.sid === 'string' ? [r.sid] : [])));
  }

  async discover(signal?: AbortSignal): Promise<Discovery> {
    const [view, ha, haSids, haRules] = await Promise.all([
      this.read(signal),
      this.readHa(signal),
      this.haSids(signal),
      this.api.get<PveHaRule[]>('/cluster/ha/rules', {}, { signal }),
    ]);
    const unreachable: UnreachableHost[] = [];
    const online = view.nodes.filter((node) => {
      if (node.online) return true;
      unreachable.push({ host: node.name, error: `${node.name}: Proxmox VE reports the node offline` });
      return false;
    });
    // A node in HA maintenance is in maintenance here too: nothing is placed there, and the connector is not degraded by it.
    const hosts = (await this.hostsOf(online, unreachable, signal)).map((h) => ({ ...h, maintenance: ha.maintenance.has(h.name) }));
    const present = new Set(hosts.map((h) => h.name));
    const rebalancing = haAutoRebalance(ha.crs);
    const sidOf = (g: PveGuest) => `${g.type === 'lxc' ? 'ct' : 'vm'}:${g.vmid}`;
    // Templates never run: they are left out of the inventory, as vSphere's are. Guests of a node that does not answer
    // are left as they were (the sync prunes nothing while a node is unreachable).
    const guests = view.guests.filter((g) => !g.template && present.has(g.node));
    const held = new Map<number, string>();
    for (const g of guests) {
      const why = this.heldBy(g, haSids.has(sidOf(g)), rebalancing, ha.maintenance);
      if (why) held.set(g.vmid, why);
    }
    await this.readMovability(
      guests.filter((g) => g.type === 'qemu' && !held.has(g.vmid)),
      signal,
    );
    const vms: DiscoveredVm[] = guests.map((g) => {
      const why = held.get(g.vmid) ?? this.movabilityHold(g);
      return {
        externalId: String(g.vmid),
        name: view.names.get(g.vmid)!,
        vcpus: Math.max(1, Math.round(g.maxcpu)),
        memoryMib: Math.max(1, Math.round(g.maxmem / MIB)),
        power: POWER[g.status] ?? 'stopped',
        host: g.node,
        ...(why ? { heldBy: why } : {}),
      };
    });
    const movable = guests.filter((g) => g.type === 'qemu' && !haSids.has(sidOf(g)));
    this.discovered = true;
    return {
      hosts,
      vms,
      unreachable,
      rules: platformRulesOf(
        haRules ?? [],
        view.guests.filter((g) => !g.template),
        view.names,
        view.nodes.map((n) => n.name),
      ),
      // With CRS rebalancing the HA guests, only the others are ours to balance: when there are none, PVE balances it all.
      notes:
        rebalancing && haSids.size > 0 && movable.length > 0
          ? [`Proxmox VE's CRS rebalances the HA-managed guests (crs: ha-auto-rebalance): ${haSids.size} of them are left to it`]
          : [],
      balancedBy:
        rebalancing && haSids.size > 0 && movable.length === 0
          ? "Proxmox VE's CRS rebalances the HA-managed guests (crs: ha-auto-rebalance) and every guest of the cluster is HA-managed"
          : null,
    };
  }

  private heldBy(g: PveGuest, haManaged: boolean, rebalancing: boolean, maintenance: ReadonlySet<string>): string | null {
    if (g.type === 'lxc') return CONTAINER_HELD;
    // A `migrate` lock is a migration in flight (this service's own, most often): it ends by itself, and a hold would
    // outlive it until the next sync. A migration asked meanwhile is refused by the driver, which reads the lock again.
    if (g.lock && g.lock !== 'migrate') return `locked by Proxmox VE (lock: ${g.lock})`;
    const ignore = proxlbTags(g.tags).ignore;
    if (ignore) return `the ProxLB tag ${ignore} (ProxLB never moves a guest tagged so)`;
    if (haManaged && rebalancing) return CRS_HELD;
    if (haManaged && maintenance.has(g.node)) return `HA-managed on ${g.node}, which is in HA maintenance: the HA manager moves it away`;
    return null;
  }

  private movabilityHold(g: PveGuest): string | null {
    const found = this.movability.get(g.vmid);
    if (!found || g.type !== 'qemu') return null;
    if (found.localResources.length > 0) return `local devices (${found.localResources.join(', ')}) that Proxmox VE cannot live-migrate`;
    if (found.localDisks.length > 0 && !this.options.allowLocalDisks)
      return `local disks (${found.localDisks.join(', ')}): set allowLocalDisks to have them copied during migrations`;
    return null;
  }

  /** The migration preconditions (local disks and devices) of guests not read lately. */
  private async readMovability(guests: PveGuest[], signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const stale = guests.filter((g) => now - (this.movability.get(g.vmid)?.at ?? 0) > LOCAL_DISKS_TTL_MS);
    await Promise.all(
      stale.map(async (g) => {
        try {
          const found = await this.api.get<{ local_disks?: Array<{ volid?: string }>; local_resources?: string[] }>(
            `/nodes/${encodeURIComponent(g.node)}/qemu/${g.vmid}/migrate`,
            {},
            { signal },
          );
          this.movability.set(g.vmid, {
            localDisks: (found?.local_disks ?? []).map((d) => d.volid ?? '?'),
            localResources: found?.local_resources ?? [],
            at: Date.now(),
          });
        } catch (error) {
          // A missing privilege is the operator's to fix, said once for all; a guest locked or moved meanwhile is read next time.
          if (error instanceof ConnectorError && error.reason === 'auth') throw error;
        }
      }),
    );
  }

  /** Each online node's capacity (cpuinfo: logical CPUs × MHz, total memory), from its status. */
  private async hostsOf(nodes: PveNode[], unreachable: UnreachableHost[], signal?: AbortSignal): Promise<DiscoveredHost[]> {
    const now = Date.now();
    const hosts = await Promise.all(
      nodes.map(async (node): Promise<DiscoveredHost | null> => {
        const cached = this.capacity.get(node.name);
        if (cached && now - cached.at < NODE_STATUS_TTL_MS) return cached.host;
        try {
          const status = await this.api.get<{ cpuinfo?: { cpus?: number; mhz?: string | number }; memory?: { total?: number } }>(
            `/nodes/${encodeURIComponent(node.name)}/status`,
            {},
            { signal },
          );
          const host = {
            name: node.name,
            cpuCores: Math.max(1, Number(status?.cpuinfo?.cpus) || 1),
            cpuMhzPerCore: Number(status?.cpuinfo?.mhz) || 0,
            memoryMib: Math.round((Number(status?.memory?.total) || 0) / MIB),
          };
          this.capacity.set(node.name, { host, at: Date.now() });
          return host;
        } catch (error) {
          if (error instanceof ConnectorError && error.reason === 'auth') throw error;
          // A node whose API does not answer keeps the capacity read last; one never read is unreachable.
          if (cached) return cached.host;
          unreachable.push({ host: node.name, error: `${node.name}: its status could not be read (${(error as Error).message})` });
          return null;
        }
      }),
    );
    return hosts.filter((h): h is DiscoveredHost => h !== null);
  }

  /**
   * Every running guest's CPU (its fraction × vCPUs × the node's MHz) and memory from /cluster/resources; on the first
   * collection after the first discovery, each running VM's last hour from its RRD data, with the samples' own times.
   */
  async collect(signal?: AbortSignal): Promise<Collection> {
    const view = await this.read(signal);
    const unreachable: UnreachableHost[] = [];
    const online = view.nodes.filter((n) => n.online);
    if (online.some((n) => !this.capacity.has(n.name))) await this.hostsOf(online, unreachable, signal);
    const mhzOf = (node: string) => this.capacity.get(node)?.host.cpuMhzPerCore ?? 0;
    const now = Date.now();
    const running = view.guests.filter((g) => g.status === 'running' && !g.template && this.capacity.has(g.node));
    const samples: CollectedSample[] = [];
    if (this.discovered && !this.backfilled) {
      samples.push(...(await this.backfill(running, view.names, mhzOf, now, signal)));
      this.backfilled = true;
    }
    for (const g of running) {
      samples.push({
        vmName: view.names.get(g.vmid)!,
        hostName: g.node,
        timestamp: now,
        cpuMhz: Math.max(0, g.cpu * g.maxcpu * mhzOf(g.node)),
        memoryActiveMib: Math.max(0, g.mem / MIB),
        memoryConsumedMib: Math.max(0, (g.memhost ?? g.mem) / MIB),
      });
    }
    return { samples, unreachable };
  }

  private async backfill(
    guests: PveGuest[],
    names: Map<number, string>,
    mhzOf: (node: string) => number,
    now: number,
    signal?: AbortSignal,
  ): Promise<CollectedSample[]> {
    const out: CollectedSample[] = [];
    // PVE 9 serves RRD data per VM (qemu); containers get their first samples from the next collection.
    await Promise.all(
      guests
        .filter((g) => g.type === 'qemu')
        .map(async (g) => {
          let points: Array<Record<string, number | null>>;
          try {
            points = await this.api.get(
              `/nodes/${encodeURIComponent(g.node)}/qemu/${g.vmid}/rrddata`,
              { timeframe: 'hour', cf: 'AVERAGE' },
              { signal },
            );
          } catch (error) {
            if (error instanceof ConnectorError && error.reason === 'auth') throw error;
            return;
          }
          for (const p of points ?? []) {
            const time = Number(p.time) * 1000;
            const cpu = p.cpu;
            // RRD rows not filled yet come back without values (or NaN); the current minute is the live sample's.
            if (typeof cpu !== 'number' || !Number.isFinite(cpu) || !(time > now - 3_600_000) || time >= now) continue;
            const mem = typeof p.mem === 'number' && Number.isFinite(p.mem) ? p.mem : 0;
            const memhost = typeof p.memhost === 'number' && Number.isFinite(p.memhost) ? p.memhost : mem;
            out.push({
              vmName: names.get(g.vmid)!,
              hostName: g.node,
              timestamp: time,
              cpuMhz: Math.max(0, cpu * (Number(p.maxcpu) || g.maxcpu) * mhzOf(g.node)),
              memoryActiveMib: Math.max(0, mem / MIB),
              memoryConsumedMib: Math.max(0, memhost / MIB),
            });
          }
        }),
    );
    return out.sort((a, b) => a.timestamp - b.timestamp);
  }

  async locate(vmName: string): Promise<string | null> {
    const view = await this.read();
    const guest = view.byName.get(vmName);
    if (!guest) return null;
    if (!view.nodes.find((n) => n.name === guest.node)?.online)
      throw new ConnectorError(guest.node, 'unreachable', `${guest.node}: the node of ${vmName} is offline`);
    return guest.node;
  }

  /** The last view, or a fresh one. */
  current(signal?: AbortSignal): Promise<ClusterView> {
    return this.view ? Promise.resolve(this.view) : this.read(signal);
  }

  migrationDriver(): MigrationDriver {
    this.driver ??= new ProxmoxMigrationDriver(this.api, this, {
      ...this.options.migration,
      allowLocalDisks: this.options.allowLocalDisks,
    });
    return this.driver;
  }

  close(): Promise<void> {
    this.api.close();
    return Promise.resolve();
  }
}
