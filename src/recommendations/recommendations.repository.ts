// The recommendations' SQL that is not a TypeORM call.
import { EntityManager } from 'typeorm';
import { selectRows } from '../database/dialect';

export function countsByClusterAndStatus(m: EntityManager): Promise<{ clusterId: string; key: string; count: number }[]> {
  return selectRows(m, 'SELECT "clusterId", status AS key, COUNT(*) AS count FROM recommendations GROUP BY "clusterId", status');
}
