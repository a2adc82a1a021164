// A Proxmox VE cluster's placement rules as rules of ours: PVE 9's HA rules (/cluster/ha/rules) and ProxLB's guest
// tags, so that a cluster balanced by ProxLB keeps its constraints without retagging. Pure: the connector feeds it
// what PVE answered.
import type { PlatformGroup, PlatformRule, PlatformRules } from '../../rules/platform-rules';
import { proxlbTags, type PveGuest } from './pve-parse';

/** An HA rule as GET /cluster/ha/rules returns it. */
export interface PveHaRule {
  rule: string;
  type: string;
  /** `vm:100,ct:101` */
  resources?: string;
  /** `pve1:2,pve2` (node-affinity). */
  nodes?: string;
  strict?: number | boolean | string;
  affinity?: string;
  disable?: number | boolean | string;
}

const flag = (value: unknown) => value === 1 || value === true || value === '1';

/** The nodes of a node-affinity rule with their priorities (PVE's default priority is 0). */
export function ruleNodes(nodes: string | undefined): Array<{ node: string; priority: number }> {
  return (nodes ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const [node, priority] = part.split(':');
      return { node, priority: priority === undefined ? 0 : Number(priority) || 0 };
    });
}

/** `vm:100` or `ct:101` → 100. */
const vmidOfSid = (sid: string) => Number(/^(?:vm|ct):(\d+)$/.exec(sid.trim())?.[1] ?? NaN);

export function platformRulesOf(
  haRules: readonly PveHaRule[],
  guests: readonly Pick<PveGuest, 'vmid' | 'tags'>[],
  names: ReadonlyMap<number, string>,
  nodeNames: readonly string[],
): PlatformRules {
  const groups: PlatformGroup[] = [];
  const rules: PlatformRule[] = [];
  const known = new Set(nodeNames);
  for (const ha of haRules) {
    const members = (ha.resources ?? '').split(',').flatMap((sid) => names.get(vmidOfSid(sid)) ?? []);
    const vmGroup = `${ha.rule} (guests)`;
    const enabled = !flag(ha.disable);
    if (ha.type === 'node-affinity') {
      const nodes = ruleNodes(ha.nodes).filter((n) => known.has(n.node));
      const strict = flag(ha.strict);
      // Strict: the HA manager runs the guests on any listed node, falling back through the priorities, never elsewhere.
      // Non-strict: it prefers the highest-priority nodes, and that preference is what the soft rule says.
      const top = Math.max(...nodes.map((n) => n.priority));
      const hosts = strict ? nodes : nodes.filter((n) => n.priority === top);
      if (hosts.length === 0) continue;
      const hostGroup = `${ha.rule} (nodes)`;
      groups.push({ name: vmGroup, kind: 'vm', members }, { name: hostGroup, kind: 'host', members: hosts.map((n) => n.node) });
      rules.push({
        name: ha.rule,
        kind: 'vm-host',
        vmGroup,
        hostGroup,
        relation: 'run-on',
        enforcement: strict ? 'hard' : 'soft',
        enabled,
      });
    } else if (ha.type === 'resource-affinity' && (ha.affinity === 'positive' || ha.affinity === 'negative')) {
      // The HA manager never breaks a resource-affinity rule to place a guest: hard.
      groups.push({ name: vmGroup, kind: 'vm', members });
      rules.push({ name: ha.rule, kind: ha.affinity === 'positive' ? 'affinity' : 'anti-affinity', vmGroup, enforcement: 'hard', enabled });
    }
  }

  // ProxLB: guests sharing a plb_affinity_<x> tag stay together, plb_anti_affinity_<x> apart, plb_pin_<node> on those nodes.
  const together = new Map<string, string[]>();
  const apart = new Map<string, string[]>();
  const pinned = new Map<string, { nodes: string[]; members: string[] }>();
  const add = (map: Map<string, string[]>, key: string, name: string) => map.set(key, [...(map.get(key) ?? []), name]);
  for (const guest of guests) {
    const name = names.get(guest.vmid);
    if (!name) continue;
    const tags = proxlbTags(guest.tags);
    tags.affinity.forEach((group) => add(together, group, name));
    tags.antiAffinity.forEach((group) => add(apart, group, name));
    const nodes = [...new Set(tags.pins.filter((n) => known.has(n)))].sort();
    if (nodes.length > 0) {
      const key = nodes.join('+');
      const entry = pinned.get(key) ?? { nodes, members: [] };
      entry.members.push(name);
      pinned.set(key, entry);
    }
  }
  for (const [map, prefix, kind] of [
    [together, 'plb_affinity_', 'affinity'],
    [apart, 'plb_anti_affinity_', 'anti-affinity'],
  ] as const) {
    for (const [group, members] of [...map].sort(([a], [b]) => a.localeCompare(b))) {
      // One guest alone with a tag constrains nothing.
      if (members.length < 2) continue;
      const name = `${prefix}${group}`;
      groups.push({ name: `${name} (guests)`, kind: 'vm', members });
      rules.push({ name, kind, vmGroup: `${name} (guests)`, enforcement: 'hard', enabled: true });
    }
  }
  for (const [key, { nodes, members }] of [...pinned].sort(([a], [b]) => a.localeCompare(b))) {
    const name = `plb_pin_${key}`;
    groups.push({ name: `${name} (guests)`, kind: 'vm', members }, { name: `${name} (nodes)`, kind: 'host', members: nodes });
    rules.push({
      name,
      kind: 'vm-host',
      vmGroup: `${name} (guests)`,
      hostGroup: `${name} (nodes)`,
      relation: 'run-on',
      enforcement: 'hard',
      enabled: true,
    });
  }
  return { source: 'proxmox', groups, rules };
}
