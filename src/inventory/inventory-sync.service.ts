import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, ObjectLiteral } from 'typeorm';
import { findOr404 } from '../common/database-helpers';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { InventoryGuards } from './inventory-ports';
import { ClusterEntity } from './cluster.entity';
import { HostSpecDto } from './dto/host.dto';
import { InventorySyncDto, InventorySyncResult, SyncCounts, SyncVmDto } from './dto/inventory-sync.dto';
import { HostEntity } from './host.entity';
import { VmEntity } from './vm.entity';
import { vmBoundProblems } from './vms.service';

/** Rows per multi-row INSERT: about 16 columns each stays well under SQLite's 32,766 bound variables. */
const INSERT_CHUNK = 500;
const IN_CHUNK = 900;

const counts = (): SyncCounts => ({ created: 0, updated: 0, unchanged: 0, deleted: 0 });

/** The fields of `wanted` that differ from `current` (undefined means "not reported": left as is). */
function changedFields<T extends object>(current: T, wanted: Partial<T>): Partial<T> {
  const changes: Partial<T> = {};
  for (const key of Object.keys(wanted) as (keyof T)[]) {
    const value = wanted[key];
    if (value !== undefined && value !== current[key]) changes[key] = value;
  }
  return changes;
}

function duplicateNameProblems(items: { name: string }[], list: string): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  items.forEach((item, i) => {
    if (seen.has(item.name)) problems.push({ field: `${list}.${i}.name`, message: `${list}.${i}.name "${item.name}" is listed twice` });
    seen.add(item.name);
  });
  return problems;
}

/**
 * Mirrors what a hypervisor manager reports: upserts hosts and VMs by name in one transaction and,
 * with `prune`, deletes those not listed. Either all of it is applied or none.
 */
@Injectable()
export class InventorySyncService {
  private readonly logger = new Logger(InventorySyncService.name);
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly guards: InventoryGuards,
  ) {}

  /** `actor`: who synced through the API; null for the service's own (the demo, a replay). */
  async sync(clusterId: string, dto: InventorySyncDto, actor: Actor | null): Promise<InventorySyncResult> {
    const problems = [
      ...duplicateNameProblems(dto.hosts, 'hosts'),
      ...duplicateNameProblems(dto.vms, 'vms'),
      ...dto.vms.flatMap((vm, i) =>
        vmBoundProblems(
          {
            memoryMib: vm.memoryMib,
            cpuReservationMhz: vm.cpuReservationMhz ?? 0,
            cpuLimitMhz: vm.cpuLimitMhz ?? null,
            memoryReservationMib: vm.memoryReservationMib ?? 0,
            memoryLimitMib: vm.memoryLimitMib ?? null,
          },
          `vms.${i}.`,
        ),
      ),
    ];
    if (problems.length > 0) {
      throw new DomainError(ErrorCode.Invalid, `The inventory has ${problems.length} problem(s)`, problems.slice(0, 50));
    }
    // Names the migration command could not be given are refused before anything is written.
    const unusable = [
      ...dto.hosts.flatMap((host, i) => (host.address !== undefined ? this.guards.hostProblems(host, `hosts.${i}.`) : [])),
      ...dto.vms.flatMap((vm, i) => this.guards.vmProblems(vm, `vms.${i}.`)),
    ];
    if (unusable.length > 0) {
      throw new DomainError(
        ErrorCode.Unprocessable,
        `${unusable.length} host(s) or VM(s) cannot be named by the migration command`,
        unusable.slice(0, 50),
      );
    }

    const started = Date.now();
    const result = await this.db.transaction(async (m) => {
      await findOr404(m, ClusterEntity, clusterId, 'Cluster');
      const hosts = await this.syncHosts(m, clusterId, dto.hosts);
      const vms = await this.syncVms(m, clusterId, dto, hosts.idByName);
      if (dto.prune) {
        vms.counts.deleted = await this.deleteUnlisted(m, VmEntity, clusterId, new Set(dto.vms.map((v) => v.name)));
        hosts.counts.deleted = await this.deleteUnlisted(m, HostEntity, clusterId, new Set(dto.hosts.map((h) => h.name)));
      }
      const tally = (c: SyncCounts) => `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.deleted} deleted`;
      await this.events.recordIn(m, {
        clusterId,
        subjectType: 'cluster',
        subjectId: clusterId,
        type: 'inventory.synced',
        message: `Inventory synced: hosts ${tally(hosts.counts)}; VMs ${tally(vms.counts)}`,
        data: { hosts: hosts.counts, vms: vms.counts, prune: dto.prune ?? false },
        actor,
      });
      return { clusterId, hosts: hosts.counts, vms: vms.counts };
    });
    this.logger.log({ clusterId, hosts: result.hosts, vms: result.vms, ms: Date.now() - started }, 'inventory synced');
    return result;
  }

  private async syncHosts(m: EntityManager, clusterId: string, wanted: HostSpecDto[]) {
    const existing = new Map((await m.find(HostEntity, { where: { clusterId } })).map((h) => [h.name, h]));
    const idByName = new Map<string, string>([...existing.values()].map((h) => [h.name, h.id]));
    const result = counts();
    const inserts: Partial<HostEntity>[] = [];
    // A host listed without an address keeps the one it has: checked with it.
    const unusable = wanted.flatMap((spec, i) =>
      spec.address === undefined
        ? this.guards.hostProblems({ name: spec.name, address: existing.get(spec.name)?.address }, `hosts.${i}.`)
        : [],
    );
    if (unusable.length > 0) {
      throw new DomainError(
        ErrorCode.Unprocessable,
        `${unusable.length} host(s) cannot be named by the migration command`,
        unusable.slice(0, 50),
      );
    }
    for (const spec of wanted) {
      const current = existing.get(spec.name);
      if (!current) {
        const id = randomUUID();
        idByName.set(spec.name, id);
        inserts.push({ migrationGbps: 10, state: 'connected', address: null, ...spec, id, clusterId, version: 1 });
        continue;
      }
      const changes = changedFields(current, spec);
      if (Object.keys(changes).length === 0) {
        result.unchanged++;
      } else {
        await this.update(m, HostEntity, current.id, changes);
        result.updated++;
      }
    }
    result.created = await this.insert(m, HostEntity, inserts);
    return { counts: result, idByName };
  }

  private async syncVms(m: EntityManager, clusterId: string, dto: InventorySyncDto, hostIdByName: Map<string, string>) {
    // With prune, hosts not listed are about to go: a VM may only name a host of the request.
    const allowedHosts = dto.prune ? new Set(dto.hosts.map((h) => h.name)) : new Set(hostIdByName.keys());
    const unknownHost = dto.vms.flatMap((vm, i): FieldProblem[] =>
      allowedHosts.has(vm.hostName)
        ? []
        : [
            {
              field: `vms.${i}.hostName`,
              message: `vms.${i}.hostName "${vm.hostName}" is not a host of this cluster${dto.prune ? ' listed in the request' : ''}`,
            },
          ],
    );
    if (unknownHost.length > 0) {
      throw new DomainError(ErrorCode.Unprocessable, `${unknownHost.length} VM(s) name an unknown host`, unknownHost.slice(0, 50));
    }

    const existing = new Map((await m.find(VmEntity, { where: { clusterId } })).map((v) => [v.name, v]));
    const result = counts();
    const inserts: Partial<VmEntity>[] = [];
    for (const spec of dto.vms) {
      const { hostName, ...fields }: SyncVmDto = spec;
      const hostId = hostIdByName.get(hostName) as string;
      const current = existing.get(spec.name);
      if (!current) {
        inserts.push({
          powerState: 'poweredOn',
          automation: 'default',
          cpuReservationMhz: 0,
          cpuLimitMhz: null,
          memoryReservationMib: 0,
          memoryLimitMib: null,
          ...fields,
          id: randomUUID(),
          clusterId,
          hostId,
          version: 1,
        });
        continue;
      }
      const changes = changedFields(current, { ...fields, hostId });
      if (Object.keys(changes).length === 0) {
        result.unchanged++;
        continue;
      }
      const merged = { ...current, ...changes };
      const bounds = vmBoundProblems(merged, `vms.${dto.vms.indexOf(spec)}.`);
      if (bounds.length > 0) throw new DomainError(ErrorCode.Invalid, bounds[0].message, bounds);
      await this.update(m, VmEntity, current.id, changes);
      result.updated++;
    }
    result.created = await this.insert(m, VmEntity, inserts);
    return { counts: result };
  }

  private async insert<T extends ObjectLiteral>(m: EntityManager, entity: new () => T, rows: Partial<T>[]): Promise<number> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await m
        .createQueryBuilder()
        .insert()
        .into(entity)
        .values(rows.slice(i, i + INSERT_CHUNK))
        .updateEntity(false)
        .execute();
    }
    return rows.length;
  }

  /** The query builder also bumps `version` and `updatedAt`. */
  private async update<T extends ObjectLiteral>(m: EntityManager, entity: new () => T, id: string, changes: Partial<T>): Promise<void> {
    await m.createQueryBuilder().update(entity).set(changes).where('id = :id', { id }).updateEntity(false).execute();
  }

  private async deleteUnlisted<T extends ObjectLiteral & { id: string; name: string }>(
    m: EntityManager,
    entity: new () => T,
    clusterId: string,
    listed: Set<string>,
  ): Promise<number> {
    const rows = await m.find(entity, { where: { clusterId } as never, select: { id: true, name: true } as never });
    const doomed = rows.filter((r) => !listed.has(r.name)).map((r) => r.id);
    for (let i = 0; i < doomed.length; i += IN_CHUNK) {
      await m.delete(entity, { id: In(doomed.slice(i, i + IN_CHUNK)) });
    }
    return doomed.length;
  }
}
