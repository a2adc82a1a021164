import { platformRulesOf, ruleNodes } from './proxmox-rules';

const names = new Map([
  [100, 'web1'],
  [101, 'web2'],
  [102, 'db1'],
  [200, 'ct1'],
]);
const nodes = ['pve1', 'pve2', 'pve3'];

describe("a Proxmox VE cluster's HA rules and ProxLB tags as rules of ours", () => {
  it('reads node lists with priorities', () => {
    expect(ruleNodes('pve1:2,pve2, pve3:1')).toEqual([
      { node: 'pve1', priority: 2 },
      { node: 'pve2', priority: 0 },
      { node: 'pve3', priority: 1 },
    ]);
  });

  it('maps node-affinity (strict: hard on every listed node; non-strict: soft on the preferred ones) and resource-affinity (hard)', () => {
    const imported = platformRulesOf(
      [
        { rule: 'db-strict', type: 'node-affinity', resources: 'vm:102', nodes: 'pve1:1,pve2', strict: 1, disable: 0 },
        { rule: 'web-prefer', type: 'node-affinity', resources: 'vm:100,vm:101', nodes: 'pve2:2,pve3:2,pve1', strict: 0 },
        { rule: 'apart', type: 'resource-affinity', resources: 'vm:100,vm:101', affinity: 'negative', disable: 1 },
        { rule: 'together', type: 'resource-affinity', resources: 'vm:102,ct:200', affinity: 'positive' },
        { rule: 'gone', type: 'node-affinity', resources: 'vm:999', nodes: 'pve9', strict: 1 },
      ],
      [],
      names,
      nodes,
    );
    expect(imported.source).toBe('proxmox');
    expect(imported.rules).toEqual([
      {
        name: 'db-strict',
        kind: 'vm-host',
        vmGroup: 'db-strict (guests)',
        hostGroup: 'db-strict (nodes)',
        relation: 'run-on',
        enforcement: 'hard',
        enabled: true,
      },
      {
        name: 'web-prefer',
        kind: 'vm-host',
        vmGroup: 'web-prefer (guests)',
        hostGroup: 'web-prefer (nodes)',
        relation: 'run-on',
        enforcement: 'soft',
        enabled: true,
      },
      { name: 'apart', kind: 'anti-affinity', vmGroup: 'apart (guests)', enforcement: 'hard', enabled: false },
      { name: 'together', kind: 'affinity', vmGroup: 'together (guests)', enforcement: 'hard', enabled: true },
    ]);
    const group = (name: string) => imported.groups.find((g) => g.name === name)?.members;
    expect(group('db-strict (nodes)')).toEqual(['pve1', 'pve2']);
    expect(group('web-prefer (nodes)')).toEqual(['pve2', 'pve3']);
    expect(group('web-prefer (guests)')).toEqual(['web1', 'web2']);
    expect(group('together (guests)')).toEqual(['db1', 'ct1']);
  });

  it('turns ProxLB tags into rules: groups of two or more, pins to existing nodes (hard run-on)', () => {
    const imported = platformRulesOf(
      [],
      [
        { vmid: 100, tags: ['plb_anti_affinity_web', 'plb_pin_pve1', 'plb_pin_pve2'] },
        { vmid: 101, tags: ['plb_anti_affinity_web', 'plb_affinity_alone'] },
        { vmid: 102, tags: ['plb_pin_pve9'] },
        { vmid: 200, tags: ['plb_pin_pve2', 'plb_pin_pve1'] },
      ],
      names,
      nodes,
    );
    expect(imported.rules).toEqual([
      {
        name: 'plb_anti_affinity_web',
        kind: 'anti-affinity',
        vmGroup: 'plb_anti_affinity_web (guests)',
        enforcement: 'hard',
        enabled: true,
      },
      {
        name: 'plb_pin_pve1+pve2',
        kind: 'vm-host',
        vmGroup: 'plb_pin_pve1+pve2 (guests)',
        hostGroup: 'plb_pin_pve1+pve2 (nodes)',
        relation: 'run-on',
        enforcement: 'hard',
        enabled: true,
      },
    ]);
    expect(imported.groups).toEqual([
      { name: 'plb_anti_affinity_web (guests)', kind: 'vm', members: ['web1', 'web2'] },
      { name: 'plb_pin_pve1+pve2 (guests)', kind: 'vm', members: ['web1', 'ct1'] },
      { name: 'plb_pin_pve1+pve2 (nodes)', kind: 'host', members: ['pve1', 'pve2'] },
    ]);
  });
});
