// The policies' reads for the modules above (the migration engine's per-cluster caps).
import { EntityManager } from 'typeorm';
import { ClusterPolicyEntity } from './cluster-policy.entity';

/** Every cluster's own policy settings (clusters without one are absent). */
export const allPolicySettings = (m: EntityManager) => m.find(ClusterPolicyEntity, { select: { clusterId: true, settings: true } });
