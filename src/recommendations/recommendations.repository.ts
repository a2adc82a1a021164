// The recommendations' SQL that is not a TypeORM call.
import { EntityManager } from 'typeorm';

export function countsByClusterAndStatus(m: EntityManager): Promise<{ clusterId: string; key: string; count: number }[]> {
  return m.query('SELECT clusterId, status AS key, COUNT(*) AS count FROM recommendations GROUP BY clusterId, status');
}
