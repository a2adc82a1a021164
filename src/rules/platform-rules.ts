// Rules and groups as a cluster's platform defines them (vSphere DRS rules and groups, Proxmox VE HA
// rules), imported by the cluster's connector at each sync. They are read-only here (the platform is
// where they change), named "<platform>/<name>" so they never clash with the operator's own, and
// balanced exactly like the operator's rules.
import type { GroupKind, PlatformSource } from '../inventory/group.entity';
import type { RuleEnforcement, RuleKind, RuleRelation } from './rule.entity';

export interface PlatformGroup {
  name: string;
  kind: GroupKind;
  /** VM or host names. */
  members: string[];
}

export interface PlatformRule {
  name: string;
  kind: RuleKind;
  /** PlatformGroup.name of a VM group. */
  vmGroup: string;
  /** vm-host rules: PlatformGroup.name of a host group, and the relation. */
  hostGroup?: string;
  relation?: RuleRelation;
  enforcement: RuleEnforcement;
  enabled: boolean;
}

export interface PlatformRules {
  source: PlatformSource;
  groups: PlatformGroup[];
  rules: PlatformRule[];
}

const MAX_NAME = 200;

/** The name an imported rule or group has here. */
export function importedName(source: PlatformSource, name: string): string {
  return `${source}/${name}`.slice(0, MAX_NAME);
}
