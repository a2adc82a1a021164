import { Injectable } from '@nestjs/common';
import { BalancerService } from '../balancer/balancer.service';
import { PlanRequest } from '../balancer/plan-runner';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import type { HostEntity } from '../inventory/host.entity';
import { HostsService } from '../inventory/hosts.service';
import { countVmsOnHost, requireHostFound } from '../inventory/inventory.repository';
import { countActiveFromHost } from '../live-migration/migrations.repository';
import { SchedulerService } from '../passes/scheduler.service';

export interface MaintenanceStatus {
  hostId: string;
  hostName: string;
  state: HostEntity['state'];
  vmsRemaining: number;
  migrationsInFlight: number;
  /** VMs the evacuation cannot move now, and why (no room, a must-rule, ...). */
  blockers: { vmId: string; vmName: string; reason: string; explanation: string }[];
}

/** Puts hosts in and out of maintenance: evacuation first (priority 1, never breaking a hard rule or a ceiling). */
@Injectable()
export class MaintenanceService {
  constructor(
    private readonly db: Database,
    private readonly events: EventsService,
    private readonly scheduler: SchedulerService,
    private readonly balancer: BalancerService,
    private readonly hosts: HostsService,
  ) {}

  /** The evacuation pass, its recommendations and migrations name the actor too: they are this request's doing. */
  async enter(hostId: string, actor: Actor): Promise<MaintenanceStatus> {
    const host = await this.db.transaction(async (m) => {
      const host = await requireHostFound(m, hostId);
      if (host.state === 'disconnected') {
        throw new DomainError(ErrorCode.Conflict, `${host.name} is disconnected: its VMs cannot be migrated away`);
      }
      if (host.state === 'connected') {
        await this.hosts.changeState(m, hostId, 'entering-maintenance');
        await this.events.recordIn(m, {
          clusterId: host.clusterId,
          subjectType: 'host',
          subjectId: host.id,
          type: 'host.maintenance.requested',
          message: `${host.name} is entering maintenance: evacuating its VMs`,
          actor,
        });
      }
      return host;
    });
    await this.scheduler.runPass(host.clusterId, 'maintenance', actor);
    return this.status(hostId, { priority: 'evacuation' });
  }

  async exit(hostId: string, actor: Actor): Promise<MaintenanceStatus> {
    await this.db.transaction(async (m) => {
      const host = await requireHostFound(m, hostId);
      if (host.state !== 'maintenance' && host.state !== 'entering-maintenance') {
        throw new DomainError(ErrorCode.Conflict, `${host.name} is ${host.state}, not in maintenance`);
      }
      await this.hosts.changeState(m, hostId, 'connected');
      await this.events.recordIn(m, {
        clusterId: host.clusterId,
        subjectType: 'host',
        subjectId: host.id,
        type: 'host.maintenance.exited',
        message: `${host.name} is back in service`,
        actor,
      });
    });
    return this.status(hostId);
  }

  /** Asked through the API, the blockers are a what-if plan; as the answer to an evacuation, part of it. */
  async status(hostId: string, request: PlanRequest = { priority: 'what-if' }): Promise<MaintenanceStatus> {
    const host = await requireHostFound(this.db.reader, hostId);
    const vmsRemaining = await countVmsOnHost(this.db.reader, hostId);
    const migrationsInFlight = await countActiveFromHost(this.db.reader, hostId);
    let blockers: MaintenanceStatus['blockers'] = [];
    if (host.state === 'entering-maintenance' && vmsRemaining > 0) {
      const plan = await this.balancer.plan(host.clusterId, { migrationThreshold: 1 }, request);
      const moving = new Set(plan.moves.map((m) => m.vmId));
      blockers = plan.notMoved
        .filter((n) => n.hostId === hostId && n.reason !== 'migrating' && !moving.has(n.vmId))
        .map((n) => ({ vmId: n.vmId, vmName: n.vmName, reason: n.reason, explanation: n.explanation }));
    }
    return { hostId, hostName: host.name, state: host.state, vmsRemaining, migrationsInFlight, blockers };
  }
}
