import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { hostname } from 'node:os';
import { ClusterOwnership } from './cluster-ownership';

export interface ReplicaView {
  id: string;
  hostname: string;
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms, the database's clock. */
  heartbeatAt: number;
  /** Its heartbeat is within a lease period: it counts when clusters are shared out. */
  alive: boolean;
  /** The replica that answered. */
  self: boolean;
  /** The clusters whose leases it holds and that have not run out. */
  leases: { clusterId: string; epoch: number; expiresAt: number }[];
}

export interface ReplicasView {
  /** `shared`: replicas on one PostgreSQL database, each cluster owned by one of them; `single`: one process on SQLite owns every cluster. */
  mode: 'shared' | 'single';
  leaseTtlMs: number;
  /** When this replica last looked at the leases (epoch ms, the database's clock). */
  seenAt: number;
  replicas: ReplicaView[];
  /** Clusters no replica holds a live lease on right now (taken within a lease renewal). */
  unowned: string[];
}

@ApiTags('replicas')
@Controller('replicas')
export class ReplicasController {
  constructor(private readonly ownership: ClusterOwnership) {}

  /** The replicas sharing the database, their heartbeats and the cluster leases each holds, as this replica last saw them. */
  @Get()
  list(): ReplicasView {
    const o = this.ownership;
    if (!o.shared) {
      const now = Date.now();
      const self = {
        id: o.replicaId,
        hostname: hostname(),
        pid: process.pid,
        startedAt: o.startedAt,
        heartbeatAt: now,
        alive: true,
        self: true,
        leases: [],
      };
      return { mode: 'single', leaseTtlMs: o.leaseTtlMs, seenAt: now, replicas: [self], unowned: [] };
    }
    const { replicas, leases, at } = o.view();
    const live = leases.filter((l) => Number(l.expiresAt) > at);
    return {
      mode: 'shared',
      leaseTtlMs: o.leaseTtlMs,
      seenAt: at,
      replicas: replicas.map((r) => ({
        id: r.id,
        hostname: r.hostname,
        pid: Number(r.pid),
        startedAt: Number(r.startedAt),
        heartbeatAt: Number(r.heartbeatAt),
        alive: Number(r.heartbeatAt) > at - o.leaseTtlMs,
        self: r.id === o.replicaId,
        leases: live
          .filter((l) => l.replicaId === r.id)
          .map((l) => ({ clusterId: l.clusterId, epoch: Number(l.epoch), expiresAt: Number(l.expiresAt) })),
      })),
      unowned: leases.filter((l) => Number(l.expiresAt) <= at).map((l) => l.clusterId),
    };
  }
}
