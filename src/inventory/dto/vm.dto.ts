import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, Max, Min, ValidateIf } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId, IsName, IsVersion, Optional } from '../../common/validators';
import { POWER_STATES, PowerState, VM_AUTOMATION, VmAutomation } from '../vm.entity';

export const VM_LIMITS = {
  vcpus: 768,
  memoryMib: 24 * 1024 * 1024,
  cpuMhz: 20_000_000,
};

/** Size, power state, automation override, reservations and limits of a VM. */
export class VmSettingsDto {
  @ApiPropertyOptional({ enum: POWER_STATES, default: 'poweredOn' })
  @Optional()
  @IsIn(POWER_STATES)
  powerState?: PowerState;

  @ApiPropertyOptional({
    enum: VM_AUTOMATION,
    default: 'default',
    description: 'default: follow the cluster policy; manual: recommend only; disabled: never move (still counts for load)',
  })
  @Optional()
  @IsIn(VM_AUTOMATION)
  automation?: VmAutomation;

  @ApiPropertyOptional({ minimum: 0, maximum: VM_LIMITS.cpuMhz, default: 0 })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(VM_LIMITS.cpuMhz)
  cpuReservationMhz?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: VM_LIMITS.cpuMhz, nullable: true, description: 'null: unlimited' })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.cpuMhz)
  cpuLimitMhz?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: VM_LIMITS.memoryMib, default: 0 })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(VM_LIMITS.memoryMib)
  memoryReservationMib?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: VM_LIMITS.memoryMib, nullable: true, description: 'null: unlimited' })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.memoryMib)
  memoryLimitMib?: number | null;
}

export class VmSpecDto extends VmSettingsDto {
  @ApiProperty({ example: 'web-01', maxLength: 200 })
  @IsName()
  name: string;

  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.vcpus, example: 4 })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.vcpus)
  vcpus: number;

  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.memoryMib, example: 8192 })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.memoryMib)
  memoryMib: number;
}

export class CreateVmDto extends VmSpecDto {
  @ApiProperty({ format: 'uuid' })
  @IsId()
  clusterId: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The host the VM runs on (a host of the same cluster). Left out: the balancer places it (partially or fully automated clusters); a manual cluster answers 409 with the ranked hosts.',
  })
  @Optional()
  @IsId()
  hostId?: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    description: 'With placement: VM groups the VM joins at once, so that their rules guide where it goes',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsId({ each: true })
  vmGroupIds?: string[];
}

/** The host is not editable here: a VM changes host only through a migration (or an inventory sync). */
export class UpdateVmDto extends VmSettingsDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: VM_LIMITS.vcpus })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.vcpus)
  vcpus?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: VM_LIMITS.memoryMib })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.memoryMib)
  memoryMib?: number;

  @ApiPropertyOptional({ description: 'The version you read; the update is refused with 409 if it is stale' })
  @Optional()
  @IsVersion()
  version?: number;
}

export class ListVmsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  hostId?: string;

  @ApiPropertyOptional({ enum: POWER_STATES })
  @Optional()
  @IsIn(POWER_STATES)
  powerState?: PowerState;

  @ApiPropertyOptional({ description: 'Exact name' })
  @Optional()
  @IsName()
  name?: string;
}

export class VmView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty({ format: 'uuid' }) hostId: string;
  @ApiProperty() name: string;
  @ApiProperty() vcpus: number;
  @ApiProperty() memoryMib: number;
  @ApiProperty({ enum: POWER_STATES }) powerState: PowerState;
  @ApiProperty({ enum: VM_AUTOMATION }) automation: VmAutomation;
  @ApiProperty() cpuReservationMhz: number;
  @ApiProperty({ nullable: true, type: Number }) cpuLimitMhz: number | null;
  @ApiProperty() memoryReservationMib: number;
  @ApiProperty({ nullable: true, type: Number }) memoryLimitMib: number | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "Why the VM's platform does not let this service move it (set by its connector); null: it may move",
  })
  heldBy: string | null;
  @ApiProperty() version: number;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}
