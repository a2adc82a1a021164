import { IsInt, Max, Min } from 'class-validator';
import { ParseInt } from '../config/transforms';

/**
 * Defaults of the cluster policies: the concurrency caps a cluster without its own use. The policy
 * module owns them (a policy may override them per cluster); the migration engine reads them here.
 */
export class PoliciesSettings {
  /** Migrations running at once that involve one host, as source or target (vMotion on 1 GbE allows 4). */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(128)
  MIGRATION_MAX_PER_HOST = 4;

  /** Migrations running at once in one cluster; the rest wait in the queue. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(10_000)
  MIGRATION_MAX_PER_CLUSTER = 16;
}
