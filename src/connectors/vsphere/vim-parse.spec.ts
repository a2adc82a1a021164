import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvelope, type XNode } from './soap-xml';
import {
  clusterFromProps,
  parsePerfCounters,
  parseQueryPerf,
  parseRetrieveResult,
  parseRules,
  parseServiceContent,
  parseTaskInfo,
  quickStatsFromObjects,
} from './vim-parse';
import { inventoryFromObjects } from './vim-inventory';

// The files were captured from vcsim started by capture-testdata.ts with known settings: hosts of 16 cores at
// 2,400 MHz with 131,072 MiB; VM sizes, names, rules as listed there. The expected values below are read from them.
function returnval(file: string): XNode[] {
  const parsed = parseEnvelope(readFileSync(join(__dirname, 'testdata', file), 'utf8'));
  if (!parsed.ok) throw new Error(`${file} is a fault`);
  return parsed.returnval;
}
const objects = (file: string) => parseRetrieveResult(returnval(file)[0]).objects;
const vm = (value: string) => ({ type: 'VirtualMachine', value });
const host = (value: string) => ({ type: 'HostSystem', value });

describe('vim25 responses captured from vcsim', () => {
  it('ServiceContent: the managers and about', () => {
    const content = parseServiceContent(returnval('service-content.xml')[0]);
    expect(content.about).toEqual({
      apiVersion: '6.5',
      instanceUuid: 'dbed6e0c-bd88-4ef6-b594-21283e1c677f',
      fullName: 'VMware vCenter Server 6.5.0 build-5973321',
      apiType: 'VirtualCenter',
    });
    expect(content.propertyCollector).toEqual({ type: 'PropertyCollector', value: 'propertyCollector' });
    expect(content.sessionManager).toEqual({ type: 'SessionManager', value: 'SessionManager' });
    expect(content.perfManager).toEqual({ type: 'PerformanceManager', value: 'PerfMgr' });
  });

  it('clusters: name and DRS off with its behaviour', () => {
    expect(objects('clusters.xml').map(clusterFromProps)).toEqual([
      {
        ref: { type: 'ClusterComputeResource', value: 'clustercomputeresource-10' },
        name: 'DC0_C0',
        drsEnabled: false,
        drsBehavior: 'manual',
      },
    ]);
  });

  it('inventory: hosts with their capacity, VMs with size, host, power, reservations and limits, the root pool', () => {
    const inventory = inventoryFromObjects(objects('inventory.xml'));
    expect(inventory.rootPool).toEqual({ type: 'ResourcePool', value: 'resgroup-9' });
    expect(inventory.hosts).toEqual([
      {
        ref: host('host-17'),
        name: 'DC0_C0_H0',
        cpuCores: 16,
        cpuMhzPerCore: 2400,
        memoryMib: 131072,
        connectionState: 'connected',
        inMaintenanceMode: false,
        powerState: 'poweredOn',
      },
      {
        ref: host('host-24'),
        name: 'DC0_C0_H1',
        cpuCores: 16,
        cpuMhzPerCore: 2400,
        memoryMib: 131072,
        connectionState: 'connected',
        inMaintenanceMode: false,
        powerState: 'poweredOn',
      },
    ]);
    const byName = new Map(inventory.vms.map((v) => [v.name, v]));
    expect([...byName.keys()]).toEqual(['DC0_C0_H0_VM0', 'DC0_C0_H1_VM0', 'DC0_C0_H1_VM1', 'web <&> "1"']);
    expect(byName.get('DC0_C0_H0_VM0')).toEqual({
      ref: vm('vm-28'),
      name: 'DC0_C0_H0_VM0',
      instanceUuid: '8f7e3150-f1e7-5bab-a5df-59db02fcc417',
      vcpus: 8,
      memoryMib: 16384,
      hostRef: host('host-17'),
      power: 'poweredOn',
      template: false,
      cpuReservationMhz: 0,
      cpuLimitMhz: null,
      memoryReservationMib: 0,
      memoryLimitMib: null,
    });
    expect(byName.get('web <&> "1"')).toMatchObject({
      ref: vm('vm-31'),
      vcpus: 4,
      memoryMib: 8192,
      cpuReservationMhz: 2400,
      cpuLimitMhz: null,
    });
    expect(byName.get('DC0_C0_H1_VM0')).toMatchObject({ hostRef: host('host-24'), cpuReservationMhz: 2400, cpuLimitMhz: 4800 });
    expect(byName.get('DC0_C0_H1_VM1')).toMatchObject({ power: 'poweredOff', hostRef: host('host-24') });
  });

  it('rules: VM and host groups, affinity, anti-affinity and VM-host rules with their keys and flags', () => {
    const [cluster] = objects('rules.xml');
    expect(parseRules(cluster.props.get('configurationEx'))).toEqual({
      groups: [
        { name: 'web', kind: 'vm', members: [vm('vm-28'), vm('vm-34')] },
        { name: 'rack-a', kind: 'host', members: [host('host-17')] },
      ],
      rules: [
        { name: 'together', key: 1, enabled: true, mandatory: false, kind: 'affinity', vms: [vm('vm-28'), vm('vm-34')] },
        { name: 'apart', key: 2, enabled: true, mandatory: true, kind: 'anti-affinity', vms: [vm('vm-34'), vm('vm-31')] },
        { name: 'web-on-a', key: 3, enabled: true, mandatory: true, kind: 'vm-host', vmGroup: 'web', affineHostGroup: 'rack-a' },
        { name: 'web-off-a', key: 4, enabled: false, mandatory: false, kind: 'vm-host', vmGroup: 'web', antiAffineHostGroup: 'rack-a' },
      ],
    });
  });

  it('quickStats: per VM CPU and memory usage (zero for the powered-off VM), per host the sums', () => {
    const stats = quickStatsFromObjects(objects('quick-stats.xml'));
    expect(stats.hosts).toEqual([
      { ref: host('host-17'), overallCpuUsageMhz: 14490, overallMemoryUsageMib: 16515 },
      { ref: host('host-24'), overallCpuUsageMhz: 876, overallMemoryUsageMib: 4838 },
    ]);
    expect(stats.vms.find((v) => v.ref.value === 'vm-28')).toEqual({
      ref: vm('vm-28'),
      overallCpuUsageMhz: 11031,
      guestMemoryUsageMib: 2176,
      hostMemoryUsageMib: 9474,
    });
    expect(stats.vms.find((v) => v.ref.value === 'vm-37')).toEqual({
      ref: vm('vm-37'),
      overallCpuUsageMhz: 0,
      guestMemoryUsageMib: 0,
      hostMemoryUsageMib: 0,
    });
  });

  it('perfCounter: ids by group.name.rollup', () => {
    const [manager] = objects('perf-counters.xml');
    expect(parsePerfCounters(manager.props.get('perfCounter'))).toEqual(
      new Map([
        ['cpu.usagemhz.average', 6],
        ['cpu.ready.summation', 12],
        ['mem.active.average', 33],
      ]),
    );
  });

  it('QueryPerf: samples per entity, oldest first, named by counter', () => {
    const perf = parseQueryPerf(
      returnval('query-perf.xml'),
      new Map([
        [6, 'cpu.usagemhz.average'],
        [33, 'mem.active.average'],
      ]),
    );
    expect(perf.map((p) => p.entity)).toEqual([vm('vm-28'), host('host-17')]);
    expect(perf[0].samples).toEqual([
      { timestamp: Date.UTC(2026, 11, 5, 21, 25, 24, 653), values: { 'cpu.usagemhz.average': 10682, 'mem.active.average': 2007019 } },
      { timestamp: Date.UTC(2026, 11, 5, 21, 25, 44, 653), values: { 'cpu.usagemhz.average': 9350, 'mem.active.average': 2473491 } },
      { timestamp: Date.UTC(2026, 11, 5, 21, 26, 4, 653), values: { 'cpu.usagemhz.average': 12134, 'mem.active.average': 2649239 } },
    ]);
  });

  it('RelocateVM_Task returns the task reference', () => {
    expect(returnval('relocate.xml')[0]).toEqual({ '#text': 'task-40', '@_type': 'Task' });
  });

  it('task info: running with progress, cancelled with its message, success', () => {
    const info = (file: string) => {
      const [task] = objects(file);
      return parseTaskInfo(task.ref, task.props.get('info'));
    };
    expect(info('task-running.xml')).toMatchObject({
      state: 'running',
      error: null,
      cancelled: false,
      completeTime: null,
      entityRef: vm('vm-28'),
    });
    // vcsim leaves out a progress of 0 (Go's omitempty): not reported yet.
    expect(info('task-running.xml').progress).toBeNull();
    expect(info('task-running.xml').startTime).toEqual(expect.any(Number));
    expect(info('task-cancelled.xml')).toMatchObject({
      state: 'error',
      cancelled: true,
      error: 'The task was canceled by a user.',
      errorType: 'RequestCanceled',
      completeTime: expect.any(Number),
    });
    expect(info('task-success.xml')).toMatchObject({ state: 'success', progress: 100, error: null, entityRef: vm('vm-28') });
  });
});
