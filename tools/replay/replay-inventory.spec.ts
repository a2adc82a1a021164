import { VM_TYPES } from '../../src/simulator/demo-workload';
import { parseTrace } from '../../src/simulator/trace';
import { replayInventory } from './replay-inventory';

const trace = parseTrace(['vm,t0,t1', ...Array.from({ length: 12 }, (_, i) => `row${i},${i},${i + 1}`)].join('\n'));

describe('replay inventory', () => {
  it('puts one VM per trace row round-robin on the hosts, a quarter of each VM type in blocks', () => {
    const { hosts, vms } = replayInventory(trace, 5);
    expect(hosts).toHaveLength(5);
    expect(hosts[0]).toEqual({ name: 'host-001', cpuCores: 4, cpuMhz: 8000, memoryMib: 16384, migrationGbps: 10 });
    expect(vms.map((v) => v.traceRow)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(vms.map((v) => v.hostName)).toEqual([
      'host-001',
      'host-002',
      'host-003',
      'host-004',
      'host-005',
      'host-001',
      'host-002',
      'host-003',
      'host-004',
      'host-005',
      'host-001',
      'host-002',
    ]);
    // ceil(12 / 4) = 3 VMs of each type, in list order.
    expect(vms.map((v) => v.cpuMhz)).toEqual([2500, 2500, 2500, 2000, 2000, 2000, 1000, 1000, 1000, 500, 500, 500]);
    expect(vms.map((v) => v.memoryMib)).toEqual(VM_TYPES.flatMap((t) => [t.memoryMib, t.memoryMib, t.memoryMib]));
    expect(vms.map((v) => v.vcpus)).toEqual([2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('spreads fewer VMs evenly over the rows', () => {
    const { vms } = replayInventory(trace, 2, 4);
    expect(vms.map((v) => v.traceRow)).toEqual([0, 3, 6, 9]);
    expect(vms.map((v) => v.cpuMhz)).toEqual([2500, 2000, 1000, 500]);
  });

  it('deals the VMs in a shuffled order with a placement seed: same count per host, other neighbours, same for the same seed', () => {
    const countPerHost = (vms: { hostName: string }[]) => {
      const counts = new Map<string, number>();
      for (const vm of vms) counts.set(vm.hostName, (counts.get(vm.hostName) ?? 0) + 1);
      return [...counts.entries()].sort();
    };
    const plain = replayInventory(trace, 5).vms;
    const seeded = replayInventory(trace, 5, undefined, 7).vms;
    // 12 VMs on 5 hosts: 3, 3, 2, 2, 2 as round-robin deals them.
    expect(countPerHost(seeded)).toEqual([
      ['host-001', 3],
      ['host-002', 3],
      ['host-003', 2],
      ['host-004', 2],
      ['host-005', 2],
    ]);
    expect(seeded.map((v) => v.hostName)).not.toEqual(plain.map((v) => v.hostName));
    expect(seeded.map((v) => v.traceRow)).toEqual(plain.map((v) => v.traceRow));
    expect(replayInventory(trace, 5, undefined, 7).vms).toEqual(seeded);
    expect(replayInventory(trace, 5, undefined, 8).vms.map((v) => v.hostName)).not.toEqual(seeded.map((v) => v.hostName));
    expect(() => replayInventory(trace, 5, undefined, -1)).toThrow(/placement seed/);
  });

  it('refuses sizes it cannot build', () => {
    expect(() => replayInventory(trace, 0)).toThrow(/hosts/);
    expect(() => replayInventory(trace, 2, 13)).toThrow(/vms must be an integer in 1..12/);
  });
});
