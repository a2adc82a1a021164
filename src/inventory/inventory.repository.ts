// Inventory's reads for the modules above it: they name a cluster, host, VM or group through these
// functions (or the inventory services) and never query inventory's tables themselves. Each takes
// the caller's EntityManager: its transaction, or a read connection (Database.reader).
import { EntityManager, In } from 'typeorm';
import { findOr404 } from '../common/database-helpers';
import { placeholdersFor, selectRows } from '../database/dialect';
import { ClusterEntity } from './cluster.entity';
import { GroupEntity } from './group.entity';
import { HostEntity, HostState } from './host.entity';
import { VmEntity } from './vm.entity';

export const requireClusterFound = (m: EntityManager, id: string) => findOr404(m, ClusterEntity, id, 'Cluster');
export const requireHostFound = (m: EntityManager, id: string) => findOr404(m, HostEntity, id, 'Host');
export const requireVmFound = (m: EntityManager, id: string) => findOr404(m, VmEntity, id, 'VM');

export const findHost = (m: EntityManager, id: string) => m.findOne(HostEntity, { where: { id } });
export const findVm = (m: EntityManager, id: string) => m.findOne(VmEntity, { where: { id } });
export const findClusterByName = (m: EntityManager, name: string) => m.findOne(ClusterEntity, { where: { name } });
export const countClusters = (m: EntityManager) => m.count(ClusterEntity);

export const hostsOfCluster = (m: EntityManager, clusterId: string) => m.find(HostEntity, { where: { clusterId } });
export const hostsInState = (m: EntityManager, clusterId: string, state: HostState) => m.find(HostEntity, { where: { clusterId, state } });
export const vmsOnHost = (m: EntityManager, hostId: string) => m.find(VmEntity, { where: { hostId } });
export const countVmsOnHost = (m: EntityManager, hostId: string) => m.count(VmEntity, { where: { hostId } });

export async function vmNamesOfCluster(m: EntityManager, clusterId: string): Promise<string[]> {
  return (await m.find(VmEntity, { where: { clusterId }, select: { name: true } })).map((v) => v.name);
}

/**
 * Plain rows of the columns asked for, by name, not entities: a cluster has a thousand VMs, and the
 * balancing snapshot reads them for every pass, plan and balance report.
 */
const quoted = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');

export function hostRows<K extends keyof HostEntity>(
  m: EntityManager,
  clusterId: string,
  columns: readonly K[],
): Promise<Pick<HostEntity, K>[]> {
  return selectRows(m, `SELECT ${quoted(columns)} FROM hosts WHERE "clusterId" = ? ORDER BY name ASC`, [clusterId]);
}

export function vmRows<K extends keyof VmEntity>(m: EntityManager, clusterId: string, columns: readonly K[]): Promise<Pick<VmEntity, K>[]> {
  return selectRows(m, `SELECT ${quoted(columns)} FROM vms WHERE "clusterId" = ? ORDER BY name ASC`, [clusterId]);
}

export function groupKinds(m: EntityManager, clusterId: string, ids: string[]): Promise<{ id: string; kind: string }[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return selectRows(m, `SELECT id, kind FROM groups WHERE "clusterId" = ? AND id IN (${placeholdersFor(ids.length)})`, [clusterId, ...ids]);
}

/** Members of the groups, in id order. */
export async function groupMembers(
  m: EntityManager,
  groupIds: string[],
): Promise<{ vms: { groupId: string; vmId: string }[]; hosts: { groupId: string; hostId: string }[] }> {
  if (groupIds.length === 0) return { vms: [], hosts: [] };
  const placeholders = placeholdersFor(groupIds.length);
  const vms = await selectRows<{ groupId: string; vmId: string }>(
    m,
    `SELECT "groupId", "vmId" FROM vm_group_members WHERE "groupId" IN (${placeholders}) ORDER BY "vmId"`,
    groupIds,
  );
  const hosts = await selectRows<{ groupId: string; hostId: string }>(
    m,
    `SELECT "groupId", "hostId" FROM host_group_members WHERE "groupId" IN (${placeholders}) ORDER BY "hostId"`,
    groupIds,
  );
  return { vms, hosts };
}

export async function hostExists(m: EntityManager, id: string): Promise<boolean> {
  return (await selectRows(m, 'SELECT 1 FROM hosts WHERE id = ?', [id])).length > 0;
}

/** Where the VM is recorded to run, or null when it is gone. */
export async function vmHostId(m: EntityManager, vmId: string): Promise<string | null> {
  const [vm] = await selectRows<{ hostId: string }>(m, 'SELECT "hostId" FROM vms WHERE id = ?', [vmId]);
  return vm ? vm.hostId : null;
}

export interface VmRef {
  id: string;
  name: string;
  clusterId: string;
  hostId: string;
  memoryMib: number;
}

export interface HostRef {
  id: string;
  name: string;
  address: string | null;
  state: string;
  migrationGbps: number;
}

/** The VMs and hosts a set of migrations names, by id (those deleted are absent). */
export async function migrationParties(
  m: EntityManager,
  vmIds: string[],
  hostIds: string[],
): Promise<{ vms: Map<string, VmRef>; hosts: Map<string, HostRef> }> {
  const vms = vmIds.length
    ? await m.find(VmEntity, { where: { id: In(vmIds) }, select: { id: true, name: true, clusterId: true, hostId: true, memoryMib: true } })
    : [];
  const hosts = hostIds.length
    ? await m.find(HostEntity, {
        where: { id: In(hostIds) },
        select: { id: true, name: true, address: true, state: true, migrationGbps: true },
      })
    : [];
  return {
    vms: new Map(vms.map((v) => [v.id, { id: v.id, name: v.name, clusterId: v.clusterId, hostId: v.hostId, memoryMib: v.memoryMib }])),
    hosts: new Map(
      hosts.map((h) => [h.id, { id: h.id, name: h.name, address: h.address ?? null, state: h.state, migrationGbps: h.migrationGbps }]),
    ),
  };
}

export interface MoveLookup {
  vmName: string;
  clusterId: string;
  hostId: string;
  memoryMib: number;
  targetId: string | null;
  targetName: string | null;
  targetClusterId: string | null;
  targetState: HostState | null;
}

/** A VM and the host it is to move to, in one read; undefined when the VM does not exist. */
export async function moveLookup(m: EntityManager, vmId: string, targetHostId: string): Promise<MoveLookup | undefined> {
  const [found] = await selectRows<MoveLookup>(
    m,
    `SELECT v.name AS "vmName", v."clusterId", v."hostId", v."memoryMib",
            t.id AS "targetId", t.name AS "targetName", t."clusterId" AS "targetClusterId", t.state AS "targetState"
       FROM vms v
       LEFT JOIN hosts t ON t.id = ?
      WHERE v.id = ?`,
    [targetHostId, vmId],
  );
  return found;
}

export async function clusterIds(m: EntityManager): Promise<string[]> {
  return (await m.find(ClusterEntity, { select: { id: true } })).map((c) => c.id);
}

export const findGroupKind = (m: EntityManager, id: string) =>
  m.findOne(GroupEntity, { where: { id }, select: { id: true, clusterId: true, kind: true } });

const IN_CHUNK = 900;

/** VMs or hosts by id or name (in one cluster when given), keyed by the value looked up. */
export async function subjectsBy(m: EntityManager, kind: 'vm' | 'host', column: 'id' | 'name', values: string[], clusterId?: string) {
  const table = kind === 'vm' ? 'vms' : 'hosts';
  const found = new Map<string, { id: string; clusterId: string }>();
  for (let i = 0; i < values.length; i += IN_CHUNK) {
    const chunk = values.slice(i, i + IN_CHUNK);
    const where = `${column} IN (${placeholdersFor(chunk.length)})${clusterId ? ' AND "clusterId" = ?' : ''}`;
    const rows = await selectRows<{ id: string; clusterId: string; name: string }>(
      m,
      `SELECT id, "clusterId", name FROM ${table} WHERE ${where}`,
      clusterId ? [...chunk, clusterId] : chunk,
    );
    for (const row of rows) found.set(column === 'id' ? row.id : row.name, row);
  }
  return found;
}
