import { ClusterEntity } from '../inventory/cluster.entity';
import { GroupEntity } from '../inventory/group.entity';
import { HostEntity } from '../inventory/host.entity';
import { VmEntity } from '../inventory/vm.entity';
import { SampleEntity, SampleRollupEntity } from '../metrics/sample.entity';
import { RuleEntity } from '../rules/rule.entity';

/** Every table the app maps; the data source and the migration check both use this list. */
export const ENTITIES = [ClusterEntity, HostEntity, VmEntity, GroupEntity, RuleEntity, SampleEntity, SampleRollupEntity];
