// The migrations' reads for the modules above (the balancer's snapshot, maintenance, the scheduler):
// they ask here instead of querying live_migrations. Each takes the caller's EntityManager.
import { EntityManager, In } from 'typeorm';
import { selectRows } from '../database/dialect';
import { ACTIVE_MIGRATION_STATES, LiveMigrationEntity } from './live-migration.entity';

/** Migrations queued or running in the cluster, oldest first. */
export function activeMigrations(
  m: EntityManager,
  clusterId: string,
): Promise<Pick<LiveMigrationEntity, 'vmId' | 'sourceHostId' | 'targetHostId' | 'memoryMib'>[]> {
  return m.find(LiveMigrationEntity, {
    where: { clusterId, state: In([...ACTIVE_MIGRATION_STATES]) },
    select: { vmId: true, sourceHostId: true, targetHostId: true, memoryMib: true },
    order: { createdAt: 'ASC' },
  });
}

/** Migrations queued or running to or from the host. */
export function countActiveOnHost(m: EntityManager, hostId: string): Promise<number> {
  const active = In([...ACTIVE_MIGRATION_STATES]);
  return m.count(LiveMigrationEntity, {
    where: [
      { sourceHostId: hostId, state: active },
      { targetHostId: hostId, state: active },
    ],
  });
}

/** Migrations queued or running away from the host. */
export function countActiveFromHost(m: EntityManager, hostId: string): Promise<number> {
  return m.count(LiveMigrationEntity, { where: { sourceHostId: hostId, state: In([...ACTIVE_MIGRATION_STATES]) } });
}

export function countsByClusterAndState(m: EntityManager): Promise<{ clusterId: string; key: string; count: number }[]> {
  return selectRows(m, 'SELECT "clusterId", state AS key, COUNT(*) AS count FROM live_migrations GROUP BY "clusterId", state');
}
