// The audit-trail entries of inventory changes made through the API (recorded in the change's transaction).
import type { Actor } from './actor';
import type { NewEvent } from './events.service';

export type Change = 'created' | 'updated' | 'deleted';

/** `cluster.created`, `host.updated`, `rule.deleted`, ...: what changed, by whom; `fields` lists what an update set. */
export function changeEvent(
  subjectType: 'cluster' | 'host' | 'vm' | 'group' | 'rule',
  change: Change,
  subject: { id: string; name: string; clusterId?: string },
  actor: Actor | null,
  fields?: string[],
): NewEvent {
  const label = subjectType === 'vm' ? 'VM' : subjectType[0].toUpperCase() + subjectType.slice(1);
  return {
    clusterId: subject.clusterId ?? (subjectType === 'cluster' ? subject.id : null),
    subjectType,
    subjectId: subject.id,
    type: `${subjectType}.${change}`,
    message: `${label} ${subject.name} ${change}${fields?.length ? ` (${fields.join(', ')})` : ''}`,
    ...(fields ? { data: { fields } } : {}),
    actor,
  };
}

/** The fields an update request set (its version check aside). */
export function setFields(dto: object): string[] {
  return Object.entries(dto)
    .filter(([field, value]) => value !== undefined && field !== 'version')
    .map(([field]) => field);
}
