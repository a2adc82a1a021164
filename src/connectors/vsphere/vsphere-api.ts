// What the vSphere connector needs from vCenter, as typed values: the vim25 client (vim-client.ts)
// provides it over SOAP. Managed-object references are kept as vCenter gives them (type + value).

export interface MoRef {
  type: string;
  value: string;
}

export interface VsphereCluster {
  ref: MoRef;
  name: string;
  drsEnabled: boolean;
  /** manual, partiallyAutomated, fullyAutomated */
  drsBehavior: string | null;
}

export interface VsphereHost {
  ref: MoRef;
  name: string;
  cpuCores: number;
  cpuMhzPerCore: number;
  memoryMib: number;
  /** connected, disconnected, notResponding */
  connectionState: string;
  inMaintenanceMode: boolean;
}

export type VspherePower = 'poweredOn' | 'poweredOff' | 'suspended';

export interface VsphereVm {
  ref: MoRef;
  name: string;
  vcpus: number;
  memoryMib: number;
  hostRef: MoRef | null;
  power: VspherePower;
  template: boolean;
}

export interface VsphereInventory {
  hosts: VsphereHost[];
  vms: VsphereVm[];
  /** The cluster's root resource pool: where a relocated VM's pool stays within the cluster. */
  resourcePool: MoRef | null;
}

export type VsphereRule =
  | { kind: 'affinity' | 'anti-affinity'; name: string; enabled: boolean; mandatory: boolean; vms: MoRef[] }
  | {
      kind: 'vm-host';
      name: string;
      enabled: boolean;
      mandatory: boolean;
      vmGroup: string;
      affineHostGroup: string | null;
      antiAffineHostGroup: string | null;
    };

export interface VsphereGroups {
  vmGroups: { name: string; vms: MoRef[] }[];
  hostGroups: { name: string; hosts: MoRef[] }[];
}

export interface VsphereVmStats {
  ref: MoRef;
  /** MHz */
  overallCpuUsage: number;
  /** MB of guest memory the hypervisor sees as active */
  guestMemoryUsage: number;
  /** MB of host memory the VM consumes */
  hostMemoryUsage: number;
}

export type VsphereTaskState = 'queued' | 'running' | 'success' | 'error';

export interface VsphereTask {
  state: VsphereTaskState;
  /** 0–100 while running, when vCenter says */
  progress: number | null;
  error: string | null;
  cancelled: boolean;
}

/** The calls the connector makes; each throws ConnectorError (reason auth, unreachable, timeout, not-found, refused, other). */
export interface VsphereApi {
  clusters(signal?: AbortSignal): Promise<VsphereCluster[]>;
  inventory(cluster: MoRef, signal?: AbortSignal): Promise<VsphereInventory>;
  rules(cluster: MoRef, signal?: AbortSignal): Promise<{ rules: VsphereRule[]; groups: VsphereGroups }>;
  quickStats(cluster: MoRef, signal?: AbortSignal): Promise<VsphereVmStats[]>;
  relocateVm(vm: MoRef, host: MoRef, pool: MoRef | null): Promise<MoRef>;
  taskInfo(task: MoRef): Promise<VsphereTask>;
  cancelTask(task: MoRef): Promise<void>;
  /** The VM's recent tasks (its `recentTask` property): what a crash may have left running. `name` is the method, e.g. RelocateVM_Task. */
  recentTasks(vm: MoRef): Promise<{ ref: MoRef; name: string; state: VsphereTaskState }[]>;
  /** The host the VM runs on now, or null (not found, or no host). */
  vmHost(vm: MoRef): Promise<MoRef | null>;
  close(): Promise<void>;
}

export const refKey = (ref: MoRef) => `${ref.type}:${ref.value}`;

/** What the connector learned at its last read of the cluster: names by reference and back. */
export interface ClusterView {
  cluster: VsphereCluster;
  inventory: VsphereInventory;
  hostNames: Map<string, string>;
  vmNames: Map<string, string>;
}

/** Why vSphere balances the cluster itself, or null: DRS on (at any automation level, its recommendations are the operator's). */
export function balancedBy(cluster: VsphereCluster): string | null {
  if (!cluster.drsEnabled) return null;
  return `vSphere DRS is enabled on cluster "${cluster.name}"${cluster.drsBehavior ? ` (${cluster.drsBehavior})` : ''}`;
}
