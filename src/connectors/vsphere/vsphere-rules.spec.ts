import { platformRulesOf, ruleVmGroupName } from './vsphere-rules';

const vm = (value: string) => ({ type: 'VirtualMachine', value });
const host = (value: string) => ({ type: 'HostSystem', value });
const vmNames = new Map([
  ['VirtualMachine:vm-1', 'web-1'],
  ['VirtualMachine:vm-2', 'web-2'],
  ['VirtualMachine:vm-3', 'db-1'],
]);
const hostNames = new Map([
  ['HostSystem:host-1', 'esx-1'],
  ['HostSystem:host-2', 'esx-2'],
]);

describe('DRS rules and groups as rules of ours', () => {
  it('keeps DRS groups, gives VM–VM rules a VM group of their own, and maps must/should to hard/soft', () => {
    const imported = platformRulesOf(
      {
        groups: [
          { name: 'databases', kind: 'vm', members: [vm('vm-3')] },
          { name: 'rack-a', kind: 'host', members: [host('host-1'), host('host-2')] },
        ],
        rules: [
          { kind: 'anti-affinity', name: 'web apart', key: 1, enabled: true, mandatory: false, vms: [vm('vm-1'), vm('vm-2')] },
          {
            kind: 'vm-host',
            name: 'db on rack a',
            key: 2,
            enabled: true,
            mandatory: true,
            vmGroup: 'databases',
            affineHostGroup: 'rack-a',
          },
          {
            kind: 'vm-host',
            name: 'db off rack a',
            key: 3,
            enabled: false,
            mandatory: false,
            vmGroup: 'databases',
            antiAffineHostGroup: 'rack-a',
          },
        ],
      },
      vmNames,
      hostNames,
    );
    expect(imported.source).toBe('vsphere');
    expect(imported.groups).toEqual([
      { name: 'databases', kind: 'vm', members: ['db-1'] },
      { name: 'rack-a', kind: 'host', members: ['esx-1', 'esx-2'] },
      { name: "web apart (rule's VMs)", kind: 'vm', members: ['web-1', 'web-2'] },
    ]);
    expect(imported.rules).toEqual([
      { name: 'web apart', kind: 'anti-affinity', vmGroup: "web apart (rule's VMs)", enforcement: 'hard', enabled: true },
      {
        name: 'db on rack a',
        kind: 'vm-host',
        vmGroup: 'databases',
        hostGroup: 'rack-a',
        relation: 'run-on',
        enforcement: 'hard',
        enabled: true,
      },
      {
        name: 'db off rack a',
        kind: 'vm-host',
        vmGroup: 'databases',
        hostGroup: 'rack-a',
        relation: 'not-run-on',
        enforcement: 'soft',
        enabled: false,
      },
    ]);
    expect(ruleVmGroupName('x')).toBe("x (rule's VMs)");
  });

  it('leaves out members vCenter lists but the cluster does not have, and VM–host rules without a host group', () => {
    const imported = platformRulesOf(
      {
        groups: [{ name: 'g', kind: 'vm', members: [vm('vm-1'), vm('vm-99')] }],
        rules: [{ kind: 'vm-host', name: 'half made', key: 4, enabled: true, mandatory: true, vmGroup: 'g' }],
      },
      vmNames,
      hostNames,
    );
    expect(imported.groups).toEqual([{ name: 'g', kind: 'vm', members: ['web-1'] }]);
    expect(imported.rules).toEqual([]);
  });
});
