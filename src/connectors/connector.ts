// The port between the service and a virtualization platform (libvirt hosts, Proxmox VE, vSphere):
// what the connector framework calls to read a cluster's inventory and utilization and to move VMs.
import type { MigrationDriver } from '../live-migration/drivers/migration-driver';
import type { PlatformRules } from '../rules/platform-rules';

/** A host as the operator registers it in the connector's settings. */
export interface ConnectorHost {
  name: string;
  /** How the platform is reached, e.g. qemu+tcp://10.0.0.2/system or qemu+ssh://kvm-01/system. */
  uri: string;
  /** Where the migration data stream goes (an address of the host on the migration network); defaults to the URI's host. */
  migrationAddress?: string;
}

export interface DiscoveredHost {
  name: string;
  cpuCores: number;
  cpuMhzPerCore: number;
  memoryMib: number;
  /** The platform has the host in maintenance (vSphere maintenance mode): nothing is placed there. */
  maintenance?: boolean;
}

export type DiscoveredPower = 'running' | 'paused' | 'stopped';

export interface DiscoveredVm {
  /** The platform's own id (libvirt: the domain UUID). */
  externalId: string;
  name: string;
  vcpus: number;
  memoryMib: number;
  power: DiscoveredPower;
  /** ConnectorHost.name */
  host: string;
  /** Why the platform does not let this service move the VM (locked, a template, local disks, a container…); absent: it may. */
  heldBy?: string;
}

export interface UnreachableHost {
  host: string;
  error: string;
}

export interface Discovery {
  hosts: DiscoveredHost[];
  vms: DiscoveredVm[];
  unreachable: UnreachableHost[];
  /** The platform's own rules and groups (vSphere DRS rules, Proxmox HA rules), imported read-only; absent: the platform has none. */
  rules?: PlatformRules;
  /**
   * Set when the platform balances the cluster itself (vSphere DRS enabled): why, in an operator's words.
   * Two balancers would fight, so this service then moves nothing there.
   */
  balancedBy?: string | null;
  /** What the operator should know about how the platform shares the balancing (e.g. the guests PVE's CRS rebalances). */
  notes?: string[];
}

export interface CollectedSample {
  vmName: string;
  hostName: string;
  /** epoch ms */
  timestamp: number;
  cpuMhz: number;
  memoryActiveMib: number;
  memoryConsumedMib: number;
  memoryDirtyMibPerSecond?: number;
  /** Share of the time the VM's vCPUs waited for a physical CPU, 0–100, when the platform says (vSphere's cpu.ready). */
  cpuReadyPercent?: number;
}

export interface Collection {
  samples: CollectedSample[];
  unreachable: UnreachableHost[];
}

export interface Connector {
  readonly kind: string;
  discover(signal?: AbortSignal): Promise<Discovery>;
  /** Utilization since the previous call (the first call primes counters and may return nothing for CPU). */
  collect(signal?: AbortSignal): Promise<Collection>;
  /** Where the VM runs now: the host name, or null when no host runs it. Throws ConnectorError when a host can't tell. */
  locate(vmName: string): Promise<string | null>;
  /** The migration driver for this cluster (see src/live-migration/drivers/migration-driver.ts). */
  migrationDriver(): MigrationDriver;
  close(): Promise<void>;
}

export type ConnectorErrorReason = 'unreachable' | 'auth' | 'timeout' | 'not-found' | 'refused' | 'invalid-settings' | 'other';

/** A platform call that failed, with the host it concerns (null: the connector as a whole) and why, in words an operator can act on. */
export class ConnectorError extends Error {
  constructor(
    readonly host: string | null,
    readonly reason: ConnectorErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}
