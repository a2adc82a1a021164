// What the vim25 calls return, typed, and the functions that read it out of parsed responses (pure: the unit
// specs feed them responses captured from vcsim).
import { booleanOf, child, children, moRef, numberOf, Ref, text, textOf, xsiType, type MoRef, type XNode } from './soap-xml';

export interface About {
  apiVersion: string;
  instanceUuid: string;
  fullName: string;
  apiType: string;
}

export interface ServiceContent {
  about: About;
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  perfManager: MoRef;
  taskManager?: MoRef;
}

export interface VsphereCluster {
  ref: MoRef;
  name: string;
  drsEnabled: boolean;
  /** manual | partiallyAutomated | fullyAutomated ('' when the cluster does not say). */
  drsBehavior: string;
}

export interface VsphereHost {
  ref: MoRef;
  name: string;
  cpuCores: number;
  cpuMhzPerCore: number;
  memoryMib: number;
  /** connected | disconnected | notResponding */
  connectionState: string;
  inMaintenanceMode: boolean;
  /** poweredOn | poweredOff | standBy | unknown */
  powerState: string;
}

export type VmPower = 'poweredOn' | 'poweredOff' | 'suspended';

export interface VsphereVm {
  ref: MoRef;
  name: string;
  instanceUuid: string;
  vcpus: number;
  memoryMib: number;
  hostRef: MoRef | null;
  power: VmPower;
  template: boolean;
  /** MHz; 0 when none. */
  cpuReservationMhz: number;
  /** MHz; null when unlimited. */
  cpuLimitMhz: number | null;
  memoryReservationMib: number;
  memoryLimitMib: number | null;
}

export interface VsphereInventory {
  rootPool: MoRef | null;
  hosts: VsphereHost[];
  vms: VsphereVm[];
}

export interface VsphereGroup {
  name: string;
  kind: 'vm' | 'host';
  /** VM refs for a VM group, host refs for a host group. */
  members: MoRef[];
}

export interface VsphereRule {
  name: string;
  key: number;
  enabled: boolean;
  mandatory: boolean;
  kind: 'affinity' | 'anti-affinity' | 'vm-host';
  /** affinity and anti-affinity rules */
  vms?: MoRef[];
  vmGroup?: string;
  affineHostGroup?: string;
  antiAffineHostGroup?: string;
}

export interface VsphereRules {
  groups: VsphereGroup[];
  rules: VsphereRule[];
}

export interface VmQuickStats {
  ref: MoRef;
  overallCpuUsageMhz: number;
  guestMemoryUsageMib: number;
  hostMemoryUsageMib: number;
}

export interface HostQuickStats {
  ref: MoRef;
  overallCpuUsageMhz: number;
  overallMemoryUsageMib: number;
}

export interface QuickStats {
  vms: VmQuickStats[];
  hosts: HostQuickStats[];
}

export type TaskState = 'queued' | 'running' | 'success' | 'error';

export interface TaskInfo {
  ref: MoRef;
  /** The method that made it, e.g. RelocateVM_Task; null when vCenter does not say. */
  name: string | null;
  state: TaskState;
  /** 0..100, null when the task does not report it. */
  progress: number | null;
  /** The error's message (and fault type), null unless state is error. */
  error: string | null;
  errorType: string | null;
  cancelled: boolean;
  /** epoch ms */
  startTime: number | null;
  completeTime: number | null;
  entityRef: MoRef | null;
}

export interface PerfSample {
  /** epoch ms */
  timestamp: number;
  /** by counter name, e.g. cpu.usagemhz.average */
  values: Record<string, number>;
}

export interface EntityPerf {
  entity: MoRef;
  samples: PerfSample[];
}

// ---------------------------------------------------------------------------------------------------------------

export function parseServiceContent(node: XNode): ServiceContent {
  const ref = (name: string): MoRef => {
    const found = moRef(child(node, name));
    if (!found) throw new SyntaxError(`ServiceContent has no ${name}`);
    return found;
  };
  const about = child(node, 'about');
  return {
    about: {
      apiVersion: textOf(about, 'apiVersion') ?? '',
      instanceUuid: textOf(about, 'instanceUuid') ?? '',
      fullName: textOf(about, 'fullName') ?? '',
      apiType: textOf(about, 'apiType') ?? '',
    },
    rootFolder: ref('rootFolder'),
    propertyCollector: ref('propertyCollector'),
    viewManager: ref('viewManager'),
    sessionManager: ref('sessionManager'),
    perfManager: ref('perfManager'),
    taskManager: moRef(child(node, 'taskManager')),
  };
}

/** One object of a RetrieveResult or an ObjectUpdate: its reference and its properties by path. */
export interface ObjectProps {
  ref: MoRef;
  props: Map<string, XNode>;
}

export interface RetrievePage {
  objects: ObjectProps[];
  /** For ContinueRetrievePropertiesEx; undefined on the last page. */
  token: string | undefined;
}

export function parseRetrieveResult(node: XNode | undefined): RetrievePage {
  const objects = children(node, 'objects').map((content) => {
    const props = new Map<string, XNode>();
    for (const prop of children(content, 'propSet')) props.set(textOf(prop, 'name') ?? '', child(prop, 'val') ?? '');
    return { ref: moRef(child(content, 'obj'))!, props };
  });
  const token = textOf(node, 'token');
  return { objects: objects.filter((o) => o.ref !== undefined), token: token === '' ? undefined : token };
}

const MIB = 1024 * 1024;

export function hostFromProps({ ref, props }: ObjectProps): VsphereHost {
  const num = (path: string) => Number(text(props.get(path)) || 0);
  return {
    ref,
    name: text(props.get('name')),
    cpuCores: num('hardware.cpuInfo.numCpuCores'),
    cpuMhzPerCore: Math.round(num('hardware.cpuInfo.hz') / 1e6),
    memoryMib: Math.floor(num('hardware.memorySize') / MIB),
    connectionState: text(props.get('runtime.connectionState')) || 'connected',
    inMaintenanceMode: text(props.get('runtime.inMaintenanceMode')) === 'true',
    powerState: text(props.get('runtime.powerState')) || 'unknown',
  };
}

/** A ResourceAllocationInfo's limit: -1 (or absent) is unlimited. */
function limitOf(allocation: XNode | undefined): number | null {
  const limit = numberOf(allocation, 'limit');
  return limit === undefined || limit < 0 ? null : limit;
}

export function vmFromProps({ ref, props }: ObjectProps): VsphereVm {
  const num = (path: string) => Number(text(props.get(path)) || 0);
  const power = text(props.get('runtime.powerState'));
  const cpu = props.get('config.cpuAllocation');
  const memory = props.get('config.memoryAllocation');
  return {
    ref,
    name: text(props.get('name')),
    instanceUuid: text(props.get('config.instanceUuid')),
    vcpus: num('config.hardware.numCPU'),
    memoryMib: num('config.hardware.memoryMB'),
    hostRef: moRef(props.get('runtime.host')) ?? null,
    power: power === 'poweredOn' || power === 'suspended' ? power : 'poweredOff',
    template: text(props.get('config.template')) === 'true',
    cpuReservationMhz: numberOf(cpu, 'reservation') ?? 0,
    cpuLimitMhz: limitOf(cpu),
    memoryReservationMib: numberOf(memory, 'reservation') ?? 0,
    memoryLimitMib: limitOf(memory),
  };
}

export function clusterFromProps({ ref, props }: ObjectProps): VsphereCluster {
  const drs = child(props.get('configurationEx'), 'drsConfig');
  return {
    ref,
    name: text(props.get('name')),
    drsEnabled: booleanOf(drs, 'enabled') ?? false,
    drsBehavior: textOf(drs, 'defaultVmBehavior') ?? '',
  };
}

/** Groups and rules of a ClusterConfigInfoEx (the cluster's `configurationEx`). Rule types we do not model are left out. */
export function parseRules(configurationEx: XNode | undefined): VsphereRules {
  const refs = (node: XNode, name: string) =>
    children(node, name)
      .map(moRef)
      .filter((r): r is MoRef => r !== undefined);
  const groups: VsphereGroup[] = [];
  for (const group of children(configurationEx, 'group')) {
    const type = xsiType(group);
    if (type === 'ClusterVmGroup') groups.push({ name: textOf(group, 'name') ?? '', kind: 'vm', members: refs(group, 'vm') });
    else if (type === 'ClusterHostGroup') groups.push({ name: textOf(group, 'name') ?? '', kind: 'host', members: refs(group, 'host') });
  }
  const rules: VsphereRule[] = [];
  for (const rule of children(configurationEx, 'rule')) {
    const base = {
      name: textOf(rule, 'name') ?? '',
      key: numberOf(rule, 'key') ?? 0,
      enabled: booleanOf(rule, 'enabled') ?? false,
      mandatory: booleanOf(rule, 'mandatory') ?? false,
    };
    const type = xsiType(rule);
    if (type === 'ClusterAffinityRuleSpec') rules.push({ ...base, kind: 'affinity', vms: refs(rule, 'vm') });
    else if (type === 'ClusterAntiAffinityRuleSpec') rules.push({ ...base, kind: 'anti-affinity', vms: refs(rule, 'vm') });
    else if (type === 'ClusterVmHostRuleInfo') {
      const affine = textOf(rule, 'affineHostGroupName');
      const antiAffine = textOf(rule, 'antiAffineHostGroupName');
      rules.push({
        ...base,
        kind: 'vm-host',
        vmGroup: textOf(rule, 'vmGroupName') ?? '',
        ...(affine ? { affineHostGroup: affine } : {}),
        ...(antiAffine ? { antiAffineHostGroup: antiAffine } : {}),
      });
    }
  }
  return { groups, rules };
}

export function quickStatsFromObjects(objects: ObjectProps[]): QuickStats {
  const stats: QuickStats = { vms: [], hosts: [] };
  for (const { ref, props } of objects) {
    const quick = props.get('summary.quickStats');
    if (ref.type === 'VirtualMachine') {
      stats.vms.push({
        ref,
        overallCpuUsageMhz: numberOf(quick, 'overallCpuUsage') ?? 0,
        guestMemoryUsageMib: numberOf(quick, 'guestMemoryUsage') ?? 0,
        hostMemoryUsageMib: numberOf(quick, 'hostMemoryUsage') ?? 0,
      });
    } else if (ref.type === 'HostSystem') {
      stats.hosts.push({
        ref,
        overallCpuUsageMhz: numberOf(quick, 'overallCpuUsage') ?? 0,
        overallMemoryUsageMib: numberOf(quick, 'overallMemoryUsage') ?? 0,
      });
    }
  }
  return stats;
}

const time = (node: XNode | undefined, name: string) => {
  const value = textOf(node, name);
  const ms = value ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? null : ms;
};

export function parseTaskInfo(ref: MoRef, info: XNode | undefined): TaskInfo {
  const state = textOf(info, 'state');
  const error = child(info, 'error');
  const fault = child(error, 'fault');
  const errorType = error === undefined ? null : (xsiType(fault) ?? null);
  const message = error === undefined ? null : textOf(error, 'localizedMessage') || errorType || 'failed';
  return {
    ref,
    name: textOf(info, 'name') ?? null,
    state: state === 'queued' || state === 'running' || state === 'success' || state === 'error' ? state : 'queued',
    progress: numberOf(info, 'progress') ?? null,
    error: message,
    errorType,
    cancelled: booleanOf(info, 'cancelled') ?? false,
    startTime: time(info, 'startTime'),
    completeTime: time(info, 'completeTime'),
    entityRef: moRef(child(info, 'entity')) ?? null,
  };
}

/** counter id by name (group.name.rollup, e.g. cpu.usagemhz.average) from PerformanceManager.perfCounter. */
export function parsePerfCounters(perfCounter: XNode | undefined): Map<string, number> {
  const ids = new Map<string, number>();
  for (const info of children(perfCounter, 'PerfCounterInfo')) {
    const name = `${textOf(child(info, 'groupInfo'), 'key')}.${textOf(child(info, 'nameInfo'), 'key')}.${textOf(info, 'rollupType')}`;
    const key = numberOf(info, 'key');
    if (key !== undefined && !ids.has(name)) ids.set(name, key);
  }
  return ids;
}

/** QueryPerf's PerfEntityMetric list, samples oldest first, counter ids named back. */
export function parseQueryPerf(returnval: XNode[], namesById: Map<number, string>): EntityPerf[] {
  return returnval.map((metric) => {
    const timestamps = children(metric, 'sampleInfo').map((info) => Date.parse(textOf(info, 'timestamp') ?? ''));
    const samples: PerfSample[] = timestamps.map((timestamp) => ({ timestamp, values: {} }));
    for (const series of children(metric, 'value')) {
      const id = child(series, 'id');
      if ((textOf(id, 'instance') ?? '') !== '') continue;
      const name = namesById.get(numberOf(id, 'counterId') ?? -1);
      if (!name) continue;
      children(series, 'value').forEach((value, i) => {
        if (samples[i]) samples[i].values[name] = Number(text(value));
      });
    }
    return {
      entity: moRef(child(metric, 'entity'))!,
      samples: samples.filter((s) => !Number.isNaN(s.timestamp)).sort((a, b) => a.timestamp - b.timestamp),
    };
  });
}

/**
 * The QueryPerf specs for realtime (20 s) samples of the counters the server has, since `since` (epoch ms; default:
 * the latest sample only), and the counter names by id; null when the server has none of them.
 */
export function perfQuery(entityRefs: MoRef[], ids: Map<string, number>, counterNames: string[], since: number | undefined, now: number) {
  const wanted = counterNames.filter((name) => ids.has(name));
  if (wanted.length === 0) return null;
  // Realtime data: one sample every 20 s, kept for an hour.
  const maxSample = since === undefined ? 1 : Math.min(180, Math.max(1, Math.ceil((now - since) / 20_000)));
  const querySpec = entityRefs.map((entity) => ({
    entity: new Ref(entity),
    startTime: since === undefined ? undefined : new Date(since),
    maxSample,
    metricId: wanted.map((name) => ({ counterId: ids.get(name)!, instance: '' })),
    intervalId: 20,
  }));
  return { querySpec, names: new Map(wanted.map((name) => [ids.get(name)!, name])) };
}
