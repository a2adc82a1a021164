import { IsInt, Max, Min } from 'class-validator';
import { ParseInt } from '../config/transforms';

/** The connectors' loops (src/connectors): how often each configured cluster is read from its platform. */
export class ConnectorsSettings {
  /** Seconds between two inventory syncs of a cluster with a connector (hosts, VMs, where each runs). */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(86_400)
  CONNECTOR_SYNC_INTERVAL_SECONDS = 30;

  /** Seconds between two utilization collections of a cluster with a connector. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(86_400)
  CONNECTOR_COLLECT_INTERVAL_SECONDS = 20;

  /**
   * Replicas on PostgreSQL: seconds between two looks of a replica at the connectors of the clusters it owns, for
   * configurations changed or removed through another replica (a migration it starts looks at once).
   */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(3600)
  CONNECTOR_RECONCILE_SECONDS = 3;
}
