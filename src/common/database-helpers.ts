import { EntityManager, EntityTarget, FindOptionsWhere, Not, ObjectLiteral } from 'typeorm';
import { DomainError, ErrorCode } from './domain-error';

export async function findOr404<T extends ObjectLiteral & { id: string }>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  id: string,
  label: string,
): Promise<T> {
  const row = await manager.findOne(entity, { where: { id } as FindOptionsWhere<T> });
  if (!row) throw DomainError.notFound(label, id);
  return row;
}

/** Optimistic concurrency: a client that sends the version it read gets a 409 if the row moved on. */
export function assertVersion(current: { version: number }, expected: number | undefined, label: string): void {
  if (expected !== undefined && expected !== current.version) {
    throw new DomainError(
      ErrorCode.StaleVersion,
      `${label} was changed by someone else (version ${current.version}, request had ${expected}); read it again`,
      [{ field: 'version', message: `version ${expected} is stale; current is ${current.version}` }],
    );
  }
}

const PLATFORM_NAMES: Record<string, string> = { vsphere: 'vSphere', proxmox: 'Proxmox VE' };

/** Rules and groups a connector imported from the platform are changed there, never here: a 409 saying where. */
export function assertNotImported(row: { name: string; source: string | null }, label: string): void {
  if (row.source === null || row.source === undefined) return;
  const platform = PLATFORM_NAMES[row.source] ?? row.source;
  throw DomainError.conflict(
    `${label} "${row.name}" was imported from ${platform} and is read-only here: change it in ${platform}, and the next sync brings it`,
    'source',
  );
}

/** Names are unique within a cluster (clusters: globally); a clash is a 409 naming the field. */
export async function assertNameFree<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  where: FindOptionsWhere<T>,
  label: string,
  name: string,
  exceptId?: string,
): Promise<void> {
  const filter = { ...where, name, ...(exceptId ? { id: Not(exceptId) } : {}) } as FindOptionsWhere<T>;
  if (await manager.exists(entity, { where: filter })) {
    throw DomainError.conflict(`A ${label} named "${name}" already exists`, 'name');
  }
}
