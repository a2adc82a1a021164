import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ParseInt } from '../config/transforms';

/** Replicas sharing one PostgreSQL database: who this one is, and the leases by which each cluster has one owner. */
export class ReplicasSettings {
  /**
   * This replica's name, unique among the replicas of one database and the same across its restarts (a restarted
   * replica takes its own leases back at once instead of waiting for them to expire). Empty: `<hostname>:<PORT>`.
   */
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9._:@-]*$/, { message: 'REPLICA_NAME may hold letters, digits and . _ : @ - only' })
  REPLICA_NAME = '';

  /** How long a lease lasts without renewal: a replica that stops is replaced after at most this (PostgreSQL only). */
  @ParseInt()
  @IsInt()
  @Min(1000)
  @Max(600_000)
  LEASE_TTL_MS = 10_000;

  /** How often a replica renews its leases, says it is alive, and takes or hands over clusters (at most a third of LEASE_TTL_MS). */
  @ParseInt()
  @IsInt()
  @Min(100)
  @Max(200_000)
  LEASE_RENEW_MS = 2000;
}
