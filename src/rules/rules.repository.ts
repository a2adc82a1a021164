// The rules' reads for the modules above (the balancer's snapshot and placement, the scheduler's
// trigger on hard-rule changes). Each takes the caller's EntityManager.
import { EntityManager } from 'typeorm';
import { RuleEntity } from './rule.entity';

export const enabledRules = (m: EntityManager, clusterId: string) =>
  m.find(RuleEntity, { where: { clusterId, enabled: true }, order: { name: 'ASC' } });

export function enabledRuleVmGroups(m: EntityManager, clusterId: string): Promise<{ id: string; vmGroupId: string }[]> {
  return m.query('SELECT id, vmGroupId FROM rules WHERE clusterId = ? AND enabled = 1', [clusterId]);
}

/** Changes when a hard rule is added, edited, enabled or removed. */
export async function hardRulesFingerprint(m: EntityManager, clusterId: string): Promise<string> {
  const [row] = await m.query<{ n: number; versions: number; ids: string }[]>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS versions, COALESCE(GROUP_CONCAT(id), '') AS ids
       FROM (SELECT id, version FROM rules WHERE clusterId = ? AND enforcement = 'hard' AND enabled = 1 ORDER BY id)`,
    [clusterId],
  );
  return `${row.n}/${row.versions}/${row.ids}`;
}
