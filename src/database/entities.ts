import { ApiTokenEntity } from '../auth/api-token.entity';
import { ClusterEntity } from '../inventory/cluster.entity';
import { GroupEntity } from '../inventory/group.entity';
import { HostEntity } from '../inventory/host.entity';
import { LiveMigrationEntity } from '../live-migration/live-migration.entity';
import { VmEntity } from '../inventory/vm.entity';
import { SampleEntity, SampleRollupEntity } from '../samples/sample.entity';
import { EventEntity } from '../events/event.entity';
import { ClusterPolicyEntity } from '../policies/cluster-policy.entity';
import { RecommendationEntity } from '../recommendations/recommendation.entity';
import { RuleEntity } from '../rules/rule.entity';
import { PassEntity } from '../passes/pass.entity';

/** Every table the app maps; the data source and the migration check both use this list. */
export const ENTITIES = [ClusterEntity, HostEntity, VmEntity, GroupEntity, RuleEntity, SampleEntity, SampleRollupEntity, ClusterPolicyEntity, EventEntity, PassEntity, RecommendationEntity, LiveMigrationEntity, ApiTokenEntity];
