// The connectors module's only access to its table, cluster_connectors.
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Database } from '../database/database.service';
import { execute } from '../database/dialect';
import { ConnectorEntity, ConnectorState } from './connector.entity';

export interface ConnectorStatus {
  state: ConnectorState;
  lastError: string | null;
  lastSyncAt?: number;
  lastCollectAt?: number;
}

@Injectable()
export class ConnectorStore {
  constructor(private readonly db: Database) {}

  find(clusterId: string): Promise<ConnectorEntity | null> {
    return this.db.reader.findOne(ConnectorEntity, { where: { clusterId } });
  }

  all(): Promise<ConnectorEntity[]> {
    return this.db.reader.find(ConnectorEntity);
  }

  /** A new configuration starts over: state unknown, no error, no sync or collection yet. */
  async put(
    m: EntityManager,
    clusterId: string,
    config: { kind: string; settings: Record<string, unknown>; credentials: string | null },
  ): Promise<ConnectorEntity> {
    const row = await m.findOne(ConnectorEntity, { where: { clusterId } });
    const fresh = { ...config, state: 'unknown' as const, lastError: null, lastSyncAt: null, lastCollectAt: null };
    return m.save(row ? Object.assign(row, fresh) : m.create(ConnectorEntity, { clusterId, ...fresh }));
  }

  async remove(m: EntityManager, clusterId: string): Promise<boolean> {
    const result = await m.delete(ConnectorEntity, { clusterId });
    return (result.affected ?? 0) > 0;
  }

  /** The platform's own view (who balances the cluster, its notes), written without touching `version`. */
  async recordPlatformView(m: EntityManager, clusterId: string, balancedBy: string | null, notes: string[]): Promise<void> {
    await execute(m, `UPDATE "cluster_connectors" SET "balancedBy" = ?, "platformNotes" = ? WHERE "clusterId" = ?`, [
      balancedBy,
      JSON.stringify(notes),
      clusterId,
    ]);
  }

  /**
   * The loops' findings, written without touching `version` (which counts configuration changes).
   * False when the connector is gone (removed, or its cluster deleted) meanwhile.
   */
  async recordStatus(m: EntityManager, clusterId: string, status: ConnectorStatus): Promise<boolean> {
    const changed = await execute(
      m,
      `UPDATE "cluster_connectors" SET "state" = ?, "lastError" = ?, "lastSyncAt" = COALESCE(?, "lastSyncAt"), "lastCollectAt" = COALESCE(?, "lastCollectAt")
        WHERE "clusterId" = ?`,
      [status.state, status.lastError, status.lastSyncAt ?? null, status.lastCollectAt ?? null, clusterId],
    );
    return changed > 0;
  }
}
