// A vSphere cluster's DRS rules and groups (ClusterConfigInfoEx) as rules of ours: VM–VM rules become
// a VM group of their own (ours always go through groups), VM–host rules keep DRS's groups, "must"
// rules are hard and "should" rules soft. Pure: the connector feeds it what vCenter answered.
import type { PlatformGroup, PlatformRule, PlatformRules } from '../../rules/platform-rules';
import type { MoRef } from './soap-xml';
import type { VsphereRules } from './vim-parse';
import { refKey as key } from './vsphere-api';

/** The VM group a VM–VM rule becomes: DRS's group names and rule names live apart, so ours say which is which. */
export const ruleVmGroupName = (rule: string) => `${rule} (rule's VMs)`;

export function platformRulesOf(
  found: VsphereRules,
  vmNames: ReadonlyMap<string, string>,
  hostNames: ReadonlyMap<string, string>,
): PlatformRules {
  const names = (refs: MoRef[], byRef: ReadonlyMap<string, string>) => refs.flatMap((ref) => byRef.get(key(ref)) ?? []);
  const groups: PlatformGroup[] = found.groups.map((g) => ({
    name: g.name,
    kind: g.kind,
    members: names(g.members, g.kind === 'vm' ? vmNames : hostNames),
  }));
  const rules: PlatformRule[] = [];
  for (const rule of found.rules) {
    if (rule.kind === 'vm-host') {
      const hostGroup = rule.affineHostGroup ?? rule.antiAffineHostGroup;
      if (!hostGroup || !rule.vmGroup) continue;
      rules.push({
        name: rule.name,
        kind: 'vm-host',
        vmGroup: rule.vmGroup,
        hostGroup,
        relation: rule.affineHostGroup ? 'run-on' : 'not-run-on',
        enforcement: rule.mandatory ? 'hard' : 'soft',
        enabled: rule.enabled,
      });
    } else {
      const group = ruleVmGroupName(rule.name);
      groups.push({ name: group, kind: 'vm', members: names(rule.vms ?? [], vmNames) });
      // DRS never breaks a VM–VM rule to balance: it is hard whatever its `mandatory` flag says.
      rules.push({ name: rule.name, kind: rule.kind, vmGroup: group, enforcement: 'hard', enabled: rule.enabled });
    }
  }
  return { source: 'vsphere', groups, rules };
}
