import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A running instance of the service on a shared (PostgreSQL) database, as its last heartbeat left it. */
@Entity('replicas')
export class ReplicaEntity {
  /** REPLICA_NAME: stable across restarts, so that a restarted replica takes its own leases back at once. */
  @PrimaryColumn('varchar', { length: 200 })
  id: string;

  @Column('varchar', { length: 200 })
  hostname: string;

  @Column('integer')
  pid: number;

  /** Epoch ms, the database's clock. */
  @Column('integer')
  startedAt: number;

  /** Epoch ms, the database's clock: a replica whose heartbeat is older than a lease period counts as gone. */
  @Column('integer')
  heartbeatAt: number;
}

/**
 * Which replica runs a cluster's passes, connector loops and migrations, until when. The epoch grows
 * by one at every change of hands: a write that acts on the cluster checks it (fencing), so a replica
 * that was paused or cut off past its lease cannot act as a second owner when it comes back.
 */
@Entity('cluster_leases')
export class ClusterLeaseEntity {
  @PrimaryColumn('varchar')
  clusterId: string;

  @Column('varchar', { length: 200 })
  replicaId: string;

  @Column('integer')
  epoch: number;

  /** Epoch ms, the database's clock. */
  @Column('integer')
  acquiredAt: number;

  /** Epoch ms, the database's clock; 0 once released. */
  @Column('integer')
  expiresAt: number;
}
