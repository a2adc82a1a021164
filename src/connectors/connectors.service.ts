import { Injectable } from '@nestjs/common';
import { requireClusterFound } from '../inventory/inventory.repository';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { checkConnectorConfig, isProblems } from './connector-kinds';
import { ConnectorLoops } from './connector-loops';
import { ConnectorEntity } from './connector.entity';
import { ConnectorStore } from './connectors.repository';
import { CredentialCipher } from './credentials';
import { ConnectorView, PutConnectorDto } from './dto/connector.dto';

/** The view never carries the credentials, sealed or not: only whether there are some. */
function viewOf(row: ConnectorEntity): ConnectorView {
  return {
    clusterId: row.clusterId,
    kind: row.kind,
    settings: row.settings,
    hasCredentials: row.credentials !== null,
    state: row.state,
    lastError: row.lastError,
    balancedBy: row.balancedBy ?? null,
    notes: row.platformNotes ?? [],
    lastSyncAt: row.lastSyncAt,
    lastCollectAt: row.lastCollectAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    version: row.version,
  };
}

@Injectable()
export class ConnectorsService {
  constructor(
    private readonly db: Database,
    private readonly store: ConnectorStore,
    private readonly cipher: CredentialCipher,
    private readonly loops: ConnectorLoops,
    private readonly events: EventsService,
  ) {}

  async get(clusterId: string): Promise<ConnectorView> {
    await requireClusterFound(this.db.reader, clusterId);
    const row = await this.store.find(clusterId);
    if (!row) throw new DomainError(ErrorCode.NotFound, `Cluster ${clusterId} has no connector`);
    return viewOf(row);
  }

  /** Replaces the cluster's connector and restarts its loops: the first sync and collection start at once. */
  async put(clusterId: string, dto: PutConnectorDto, actor: Actor): Promise<ConnectorView> {
    const checked = checkConnectorConfig(dto.kind, dto.settings, dto.credentials);
    if (isProblems(checked)) {
      throw new DomainError(ErrorCode.Unprocessable, `The ${dto.kind} connector's configuration has ${checked.length} problem(s)`, checked);
    }
    const row = await this.db.transaction(
      async (m) => {
        await requireClusterFound(m, clusterId);
        const previous = await m.findOne(ConnectorEntity, { where: { clusterId } });
        // Credentials left out are kept, unless the platform changes: another kind's secrets mean nothing to it.
        const kept = previous?.kind === dto.kind ? previous.credentials : null;
        const credentials = checked.credentials ? this.cipher.seal(checked.credentials, clusterId) : kept;
        const saved = await this.store.put(m, clusterId, { kind: dto.kind, settings: checked.settings, credentials });
        const hosts = Array.isArray(checked.settings.hosts) ? checked.settings.hosts.length : undefined;
        await this.events.recordIn(m, {
          clusterId,
          subjectType: 'connector',
          subjectId: clusterId,
          type: 'connector.configured',
          message: `Connector ${previous ? 'replaced' : 'configured'}: ${dto.kind}${hosts !== undefined ? `, ${hosts} host(s)` : ''}${
            checked.credentials ? ', new credentials' : credentials ? ', credentials kept' : ''
          }`,
          data: { kind: dto.kind, settings: checked.settings, hasCredentials: credentials !== null },
          actor,
        });
        return saved;
      },
      { affects: [] },
    );
    await this.loops.start(row);
    return viewOf(row);
  }

  /** Stops reading the platform; the hosts and VMs it synced stay in the inventory. */
  async remove(clusterId: string, actor: Actor): Promise<void> {
    const removed = await this.db.transaction(
      async (m) => {
        await requireClusterFound(m, clusterId);
        const row = await m.findOne(ConnectorEntity, { where: { clusterId } });
        if (!row || !(await this.store.remove(m, clusterId))) return false;
        await this.events.recordIn(m, {
          clusterId,
          subjectType: 'connector',
          subjectId: clusterId,
          type: 'connector.removed',
          message: `Connector removed (${row.kind}): the inventory stays as last synced`,
          data: { kind: row.kind },
          actor,
        });
        return true;
      },
      { affects: [] },
    );
    await this.loops.stop(clusterId);
    if (!removed) throw new DomainError(ErrorCode.NotFound, `Cluster ${clusterId} has no connector`);
  }
}
