// The replicas and cluster_leases tables. Every expiry is measured on the database's clock, not a replica's:
// replicas on machines whose clocks disagree still agree on when a lease ran out.
import { EntityManager } from 'typeorm';
import { dialectOf, execute, placeholdersFor, selectRows } from '../database/dialect';
import { ClusterLeaseEntity, ReplicaEntity } from './replica.entity';

export type LeaseRow = Pick<ClusterLeaseEntity, 'clusterId' | 'replicaId' | 'epoch' | 'acquiredAt' | 'expiresAt'>;
export type ReplicaRow = Pick<ReplicaEntity, 'id' | 'hostname' | 'pid' | 'startedAt' | 'heartbeatAt'>;

/** PostgreSQL's clock in epoch ms, as an SQL expression. */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The database's clock, epoch ms (SQLite: this process's, which is the only one writing the file). */
export async function databaseNow(m: EntityManager): Promise<number> {
  if (dialectOf(m) === 'sqlite') return Date.now();
  const [{ now }] = await selectRows<{ now: string | number }>(m, `SELECT ${NOW_MS} AS now`);
  return Number(now);
}

export async function heartbeat(m: EntityManager, replica: ReplicaRow): Promise<void> {
  await execute(
    m,
    `INSERT INTO replicas (id, hostname, pid, "startedAt", "heartbeatAt") VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid, "startedAt" = excluded."startedAt",
       "heartbeatAt" = excluded."heartbeatAt"`,
    [replica.id, replica.hostname, replica.pid, replica.startedAt, replica.heartbeatAt],
  );
}

export const allReplicas = (m: EntityManager) =>
  selectRows<ReplicaRow>(m, `SELECT id, hostname, pid, "startedAt", "heartbeatAt" FROM replicas ORDER BY id`);

export const allLeases = (m: EntityManager) =>
  selectRows<LeaseRow>(m, `SELECT "clusterId", "replicaId", epoch, "acquiredAt", "expiresAt" FROM cluster_leases ORDER BY "clusterId"`);

/**
 * The replica's leases that have not run out at `now` last until `expiresAt`. One that ran out stays out, even when
 * no other replica took it: writes acting on its cluster were refused meanwhile (fencing), so the replica takes it
 * again as any replica would, with a new epoch, and settles what those refusals left (a migration whose end was not
 * recorded) as the new owner of a cluster does.
 */
export const renewLeases = (m: EntityManager, replicaId: string, now: number, expiresAt: number) =>
  execute(m, `UPDATE cluster_leases SET "expiresAt" = ? WHERE "replicaId" = ? AND "expiresAt" > ?`, [expiresAt, replicaId, now]);

/**
 * Takes the cluster's lease when it has none, when it ran out, or when it is the replica's own from before a
 * restart; the epoch grows by one. Resolves to the new epoch, or null when another replica holds it.
 */
export async function acquireLease(
  m: EntityManager,
  clusterId: string,
  replicaId: string,
  now: number,
  expiresAt: number,
): Promise<number | null> {
  // The row locked FOR UPDATE first (the upsert alone would take a weaker lock, which the fences' FOR KEY SHARE does
  // not block): the old owner's writes in progress, each holding that lock, end before the lease changes hands.
  if (dialectOf(m) === 'postgres') await selectRows(m, `SELECT 1 AS one FROM cluster_leases WHERE "clusterId" = ? FOR UPDATE`, [clusterId]);
  const taken = await execute(
    m,
    `INSERT INTO cluster_leases ("clusterId", "replicaId", epoch, "acquiredAt", "expiresAt") VALUES (?, ?, 1, ?, ?)
     ON CONFLICT ("clusterId") DO UPDATE SET "replicaId" = excluded."replicaId", epoch = cluster_leases.epoch + 1,
       "acquiredAt" = excluded."acquiredAt", "expiresAt" = excluded."expiresAt"
     WHERE cluster_leases."expiresAt" <= ? OR cluster_leases."replicaId" = excluded."replicaId"`,
    [clusterId, replicaId, now, expiresAt, now],
  );
  if (taken === 0) return null;
  const [row] = await selectRows<{ epoch: number }>(m, `SELECT epoch FROM cluster_leases WHERE "clusterId" = ?`, [clusterId]);
  return Number(row.epoch);
}

/** Hands a lease back (expired at once), if it is still the replica's at that epoch. */
export const releaseLease = (m: EntityManager, clusterId: string, replicaId: string, epoch: number) =>
  execute(m, `UPDATE cluster_leases SET "expiresAt" = 0 WHERE "clusterId" = ? AND "replicaId" = ? AND epoch = ?`, [
    clusterId,
    replicaId,
    epoch,
  ]);

/** Leases of clusters that no longer exist. */
export async function dropLeases(m: EntityManager, clusterIds: string[]): Promise<void> {
  if (clusterIds.length > 0)
    await execute(m, `DELETE FROM cluster_leases WHERE "clusterId" IN (${placeholdersFor(clusterIds.length)})`, clusterIds);
}

/** Replicas silent for longer than `before` ago: listed no more. */
export const forgetReplicas = (m: EntityManager, before: number) => execute(m, `DELETE FROM replicas WHERE "heartbeatAt" < ?`, [before]);

/**
 * True while the replica holds the cluster's lease at that epoch and it has not run out, on the database's clock,
 * read inside the caller's transaction. On PostgreSQL the row is locked FOR KEY SHARE until that transaction ends: a
 * takeover (acquireLease, which locks the row FOR UPDATE) waits for it, so no write of the old owner commits after the
 * new owner took over. The owner's renewals (an UPDATE of the expiry alone) neither wait for that lock nor make it
 * fail: a renewal that waited for the writes, while a write fencing another of its clusters waited for the renewal,
 * was a deadlock, and the renewal came late.
 */
export async function holdsLease(m: EntityManager, clusterId: string, replicaId: string, epoch: number): Promise<boolean> {
  // One statement on PostgreSQL (it is read in every write that acts on a cluster): the clock is read in it.
  const postgres = dialectOf(m) === 'postgres';
  const now = postgres ? NOW_MS : '?';
  const rows = await selectRows<{ one: number }>(
    m,
    `SELECT 1 AS one FROM cluster_leases WHERE "clusterId" = ? AND "replicaId" = ? AND epoch = ? AND "expiresAt" > ${now}${postgres ? ' FOR KEY SHARE' : ''}`,
    postgres ? [clusterId, replicaId, epoch] : [clusterId, replicaId, epoch, Date.now()],
  );
  return rows.length > 0;
}
