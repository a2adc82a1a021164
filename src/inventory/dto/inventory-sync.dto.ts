import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsString, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import { IsName, IsObjectEach, Optional } from '../../common/validators';
import { HostSpecDto } from './host.dto';
import { VmSpecDto } from './vm.dto';

export const MAX_SYNC_HOSTS = 5_000;
export const MAX_SYNC_VMS = 100_000;

export class SyncVmDto extends VmSpecDto {
  @ApiProperty({ description: 'Name of the host the VM runs on: one listed in this request, or one the cluster already has' })
  @IsName()
  hostName: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 500,
    description:
      "Why the VM's platform does not let it move (locked, a template, local disks…): it counts for load and never moves. " +
      'null: it may move; left out: unchanged',
  })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  heldBy?: string | null;
}

/** What the hypervisor manager reports; hosts and VMs are matched by name. */
export class InventorySyncDto {
  @ApiProperty({ type: [HostSpecDto], maxItems: MAX_SYNC_HOSTS })
  @IsArray()
  @ArrayMaxSize(MAX_SYNC_HOSTS)
  @IsObjectEach()
  @ValidateNested({ each: true })
  @Type(() => HostSpecDto)
  hosts: HostSpecDto[];

  @ApiProperty({ type: [SyncVmDto], maxItems: MAX_SYNC_VMS })
  @IsArray()
  @ArrayMaxSize(MAX_SYNC_VMS)
  @IsObjectEach()
  @ValidateNested({ each: true })
  @Type(() => SyncVmDto)
  vms: SyncVmDto[];

  @ApiPropertyOptional({ default: false, description: 'Delete the hosts and VMs of the cluster that this request does not list' })
  @Optional()
  @IsBoolean()
  prune?: boolean;
}

export class SyncCounts {
  @ApiProperty() created: number;
  @ApiProperty() updated: number;
  @ApiProperty() unchanged: number;
  @ApiProperty() deleted: number;
}

export class InventorySyncResult {
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty({ type: SyncCounts }) hosts: SyncCounts;
  @ApiProperty({ type: SyncCounts }) vms: SyncCounts;
}
