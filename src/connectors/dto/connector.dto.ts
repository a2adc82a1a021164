import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsString, MaxLength } from 'class-validator';
import { Optional } from '../../common/validators';
import { CONNECTOR_STATES, type ConnectorState } from '../connector.entity';

/** The shape only: what `settings` and `credentials` hold depends on the kind, checked in connector-kinds.ts (422 naming the field). */
export class PutConnectorDto {
  @ApiProperty({
    example: 'libvirt',
    description:
      'The platform: libvirt (KVM hosts reached through libvirt URIs), proxmox (a Proxmox VE cluster through its API) or vsphere (a cluster through vCenter)',
  })
  @IsString()
  @MaxLength(32)
  kind: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'libvirt: { hosts: [{ name, uri, migrationAddress? }] }, e.g. uri qemu+ssh://kvm-01/system or qemu+tcp://10.0.0.2/system; ' +
      'proxmox: { endpoints: ["https://pve1:8006"], caCertificate | certificateSha256, allowLocalDisks?, migrationTimeLimitSeconds? }; ' +
      'vsphere: { url: "https://vcenter/sdk", cluster, caCertificate? | certificateSha256?, migrationTimeLimitSeconds? }',
    example: { hosts: [{ name: 'kvm-01', uri: 'qemu+ssh://root@kvm-01/system', migrationAddress: '10.0.1.1' }] },
  })
  @IsObject()
  settings: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'Write-only: stored encrypted, never returned nor logged. libvirt: { username, password } for SASL; proxmox: { tokenId: "user@realm!name", secret } (required); vsphere: { username, password } (required). ' +
      'Left out: the credentials stored before are kept (when the kind stays the same)',
    writeOnly: true,
  })
  @Optional()
  @IsObject()
  credentials?: Record<string, unknown>;
}

export class ConnectorView {
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty() kind: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings: Record<string, unknown>;
  @ApiProperty({ description: 'Whether credentials are stored (they are never returned)' }) hasCredentials: boolean;
  @ApiProperty({ enum: CONNECTOR_STATES, description: 'unknown until the first sync or collection; degraded while a host does not answer' })
  state: ConnectorState;
  @ApiProperty({ type: String, nullable: true, description: 'Why it is degraded, naming each host' }) lastError: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Set when the platform balances the cluster itself (vSphere DRS on): this service then moves nothing there',
  })
  balancedBy: string | null;
  @ApiProperty({
    type: [String],
    description: 'What the platform balances itself within the cluster (e.g. the HA guests Proxmox VE rebalances), as the last sync found',
  })
  notes: string[];
  @ApiProperty({ type: Number, nullable: true, description: 'Epoch ms of the last sync' }) lastSyncAt: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Epoch ms of the last collection' }) lastCollectAt: number | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
  @ApiProperty({ description: 'Counts configuration changes' }) version: number;
}
