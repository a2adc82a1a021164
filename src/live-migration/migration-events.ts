// The audit-trail entries of a migration's state changes (recorded in the same transaction as the change).
import { NewEvent } from '../events/events.service';
import { LiveMigrationEntity } from './live-migration.entity';

type Ref = Pick<LiveMigrationEntity, 'id' | 'clusterId' | 'vmId' | 'sourceHostId' | 'targetHostId' | 'trigger' | 'reason'>;

export function migrationEvent(migration: Ref, state: string, message: string, data: Record<string, unknown> = {}): NewEvent {
  return {
    clusterId: migration.clusterId,
    subjectType: 'migration',
    subjectId: migration.id,
    type: `migration.${state}`,
    message,
    data: {
      vmId: migration.vmId,
      sourceHostId: migration.sourceHostId,
      targetHostId: migration.targetHostId,
      trigger: migration.trigger,
      ...data,
    },
  };
}
