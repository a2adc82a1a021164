import { demoInventory, demoSample, VM_TYPES } from './demo-workload';
import { parseTrace, utilizationAt } from './trace';

const trace = parseTrace(['vm,t0,t1,t2', 'a,0,50,100', 'b,10,10,10', 'c,100,0,100', 'd,20,40,60'].join('\n'));

describe('trace', () => {
  it('interpolates between five-minute samples and wraps after the last', () => {
    expect(utilizationAt(trace, 0, 0)).toBe(0);
    expect(utilizationAt(trace, 0, 150)).toBe(25); // halfway from 0 to 50
    expect(utilizationAt(trace, 0, 600)).toBe(100);
    expect(utilizationAt(trace, 0, 750)).toBe(50); // halfway from 100 back to t0 = 0
    expect(utilizationAt(trace, 0, 900)).toBe(0);
  });

  it('refuses a file that is not a trace', () => {
    expect(() => parseTrace('name,x\na,1')).toThrow('header');
    expect(() => parseTrace('vm,t0,t1\na,1')).toThrow('line 2');
    expect(() => parseTrace('vm,t0\na,-3')).toThrow('percentage');
  });
});

describe('demo workload', () => {
  it('starts every VM on the first half of the hosts, sized like the CloudSim types', () => {
    const inventory = demoInventory(trace, 4, 8);
    expect(inventory.hosts.map((h) => h.name)).toEqual(['esx-01', 'esx-02', 'esx-03', 'esx-04']);
    expect(new Set(inventory.vms.map((v) => v.hostName))).toEqual(new Set(['esx-01', 'esx-02']));
    expect(inventory.vms.map((v) => v.memoryMib)).toEqual([...VM_TYPES, ...VM_TYPES].map((t) => t.memoryMib));
    expect(inventory.vms[0]).toMatchObject({ vcpus: 2, cpuMhz: 2500 });
    expect(new Set(inventory.vms.map((v) => v.traceRow))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('reports CPU as the trace share of the VM size, and memory activity that follows it', () => {
    const [vm] = demoInventory(trace, 2, 1).vms; // 2500 MHz, 870 MiB, row a
    expect(demoSample(trace, vm, 300)).toEqual({
      cpuMhz: 1250, // 50 % of 2500
      memoryConsumedMib: 609, // 70 % of 870
      memoryActiveMib: 305, // 609 × (0.25 + 0.5 × 0.5) = 304.5, rounded
      memoryDirtyMibPerSecond: 17, // 2 + 30 × 0.5
    });
    expect(demoSample(trace, vm, 0).cpuMhz).toBe(0);
  });
});
