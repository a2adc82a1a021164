import { inventoryOf } from './discovery-inventory';

describe('discovery as an inventory sync', () => {
  const hosts = [
    { name: 'h0', cpuCores: 8, cpuMhzPerCore: 2400, memoryMib: 65536 },
    { name: 'h1', cpuCores: 4, cpuMhzPerCore: 3000, memoryMib: 32768 },
  ];
  const vms = [
    { externalId: 'u1', name: 'web', vcpus: 2, memoryMib: 2048, power: 'running' as const, host: 'h0' },
    { externalId: 'u2', name: 'db', vcpus: 4, memoryMib: 8192, power: 'paused' as const, host: 'h1' },
    { externalId: 'u3', name: 'old', vcpus: 1, memoryMib: 512, power: 'stopped' as const, host: 'h1', heldBy: 'a template' },
  ];

  it('gives each host its total CPU (cores × MHz per core) and each VM its host, power state and hold', () => {
    const dto = inventoryOf({ hosts, vms, unreachable: [] });
    expect(dto.hosts).toEqual([
      { name: 'h0', cpuCores: 8, cpuMhz: 19200, memoryMib: 65536 },
      { name: 'h1', cpuCores: 4, cpuMhz: 12000, memoryMib: 32768 },
    ]);
    expect(dto.vms).toEqual([
      // heldBy always said, null included: a hold the platform lifted is lifted here at the next sync.
      { name: 'web', vcpus: 2, memoryMib: 2048, powerState: 'poweredOn', hostName: 'h0', heldBy: null },
      { name: 'db', vcpus: 4, memoryMib: 8192, powerState: 'suspended', hostName: 'h1', heldBy: null },
      { name: 'old', vcpus: 1, memoryMib: 512, powerState: 'poweredOff', hostName: 'h1', heldBy: 'a template' },
    ]);
    expect(dto.prune).toBe(true);
  });

  it('prunes nothing while a host does not answer', () => {
    const dto = inventoryOf({ hosts: hosts.slice(0, 1), vms: vms.slice(0, 1), unreachable: [{ host: 'h1', error: 'connection refused' }] });
    expect(dto.prune).toBe(false);
    expect(dto.hosts.map((h) => h.name)).toEqual(['h0']);
  });

  it('never hands the sync a host or VM it would refuse for a zero size', () => {
    const dto = inventoryOf({
      hosts: [{ name: 'arm', cpuCores: 4, cpuMhzPerCore: 0, memoryMib: 4096 }],
      vms: [{ externalId: 'u', name: 'tiny', vcpus: 0, memoryMib: 0, power: 'stopped', host: 'arm' }],
      unreachable: [],
    });
    expect(dto.hosts[0].cpuMhz).toBeGreaterThanOrEqual(1);
    expect(dto.vms[0]).toMatchObject({ vcpus: 1, memoryMib: 1 });
  });
});
