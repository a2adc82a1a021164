// The rules' reads for the modules above (the balancer's snapshot and placement, the scheduler's
// trigger on hard-rule changes). Each takes the caller's EntityManager.
import { EntityManager } from 'typeorm';
import { dialectOf, selectRows } from '../database/dialect';
import { RuleEntity } from './rule.entity';

export const enabledRules = (m: EntityManager, clusterId: string) =>
  m.find(RuleEntity, { where: { clusterId, enabled: true }, order: { name: 'ASC' } });

export function enabledRuleVmGroups(m: EntityManager, clusterId: string): Promise<{ id: string; vmGroupId: string }[]> {
  return selectRows(m, 'SELECT id, "vmGroupId" FROM rules WHERE "clusterId" = ? AND enabled', [clusterId]);
}

/** Changes when a hard rule is added, edited, enabled or removed. */
export async function hardRulesFingerprint(m: EntityManager, clusterId: string): Promise<string> {
  // The ids joined in id order: SQLite's GROUP_CONCAT keeps the subquery's order, PostgreSQL's string_agg is told it.
  const ids = dialectOf(m) === 'postgres' ? "string_agg(id, ',' ORDER BY id)" : 'GROUP_CONCAT(id)';
  const [row] = await selectRows<{ n: number; versions: number | string; ids: string }>(
    m,
    `SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS versions, COALESCE(${ids}, '') AS ids
       FROM (SELECT id, version FROM rules WHERE "clusterId" = ? AND enforcement = 'hard' AND enabled ORDER BY id) AS hard`,
    [clusterId],
  );
  return `${row.n}/${row.versions}/${row.ids}`;
}
