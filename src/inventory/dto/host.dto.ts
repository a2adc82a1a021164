import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, Max, Min, ValidateBy, ValidateIf } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId, IsName, IsVersion, Optional } from '../../common/validators';
import { HOST_ADDRESS_RULE, isHostAddress } from '../../common/host-address';
import { HOST_STATES, HostState } from '../host.entity';

/**
 * A host's network address, whatever the migration driver: migration commands put it inside
 * arguments such as qemu+ssh://{targetHost}/system, where "/", "?", "#", "@" or a port would change
 * what they connect to. Null clears it.
 */
function IsHostAddress(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    ValidateIf((_, value) => value !== undefined && value !== null)(target, propertyName);
    ValidateBy({
      name: 'isHostAddress',
      validator: {
        validate: (value: unknown) => isHostAddress(value),
        defaultMessage: () => `address must be ${HOST_ADDRESS_RULE}`,
      },
    })(target, propertyName);
  };
}

const ADDRESS_DOC = {
  description:
    'DNS name or IP literal (IPv6 bare or in brackets) that migration commands connect to ({sourceHost}/{targetHost}); ' +
    'without one, the name is used if it is itself such an address',
  maxLength: 253,
  nullable: true,
  example: 'kvm-01.example.net',
};

export const HOST_LIMITS = {
  cpuCores: 4096,
  cpuMhz: 20_000_000,
  memoryMib: 128 * 1024 * 1024,
  migrationGbps: 800,
};

/** Capacity and state of a host, as reported by the hypervisor manager. */
export class HostSpecDto {
  @ApiProperty({ example: 'esx-01', maxLength: 200 })
  @IsName()
  name: string;

  @ApiPropertyOptional(ADDRESS_DOC)
  @IsHostAddress()
  address?: string | null;

  @ApiProperty({ minimum: 1, maximum: HOST_LIMITS.cpuCores, example: 32 })
  @IsInt()
  @Min(1)
  @Max(HOST_LIMITS.cpuCores)
  cpuCores: number;

  @ApiProperty({ description: 'Total CPU capacity in MHz (all cores)', minimum: 1, maximum: HOST_LIMITS.cpuMhz, example: 76800 })
  @IsInt()
  @Min(1)
  @Max(HOST_LIMITS.cpuMhz)
  cpuMhz: number;

  @ApiProperty({ minimum: 1, maximum: HOST_LIMITS.memoryMib, example: 524288 })
  @IsInt()
  @Min(1)
  @Max(HOST_LIMITS.memoryMib)
  memoryMib: number;

  @ApiPropertyOptional({ description: 'Live-migration bandwidth in Gbit/s', minimum: 0.1, maximum: HOST_LIMITS.migrationGbps, default: 10 })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.1)
  @Max(HOST_LIMITS.migrationGbps)
  migrationGbps?: number;

  @ApiPropertyOptional({ enum: HOST_STATES, default: 'connected' })
  @Optional()
  @IsIn(HOST_STATES)
  state?: HostState;
}

export class CreateHostDto extends HostSpecDto {
  @ApiProperty({ format: 'uuid' })
  @IsId()
  clusterId: string;
}

export class UpdateHostDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;

  @ApiPropertyOptional(ADDRESS_DOC)
  @IsHostAddress()
  address?: string | null;

  @ApiPropertyOptional({ minimum: 1, maximum: HOST_LIMITS.cpuCores })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(HOST_LIMITS.cpuCores)
  cpuCores?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: HOST_LIMITS.cpuMhz })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(HOST_LIMITS.cpuMhz)
  cpuMhz?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: HOST_LIMITS.memoryMib })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(HOST_LIMITS.memoryMib)
  memoryMib?: number;

  @ApiPropertyOptional({ minimum: 0.1, maximum: HOST_LIMITS.migrationGbps })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.1)
  @Max(HOST_LIMITS.migrationGbps)
  migrationGbps?: number;

  @ApiPropertyOptional({ enum: HOST_STATES })
  @Optional()
  @IsIn(HOST_STATES)
  state?: HostState;

  @ApiPropertyOptional({ description: 'The version you read; the update is refused with 409 if it is stale' })
  @Optional()
  @IsVersion()
  version?: number;
}

export class ListHostsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ enum: HOST_STATES })
  @Optional()
  @IsIn(HOST_STATES)
  state?: HostState;

  @ApiPropertyOptional({ description: 'Exact name' })
  @Optional()
  @IsName()
  name?: string;
}

export class HostView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: String, nullable: true, description: 'Null when unset' }) address: string | null;
  @ApiProperty() cpuCores: number;
  @ApiProperty() cpuMhz: number;
  @ApiProperty() memoryMib: number;
  @ApiProperty() migrationGbps: number;
  @ApiProperty({ enum: HOST_STATES }) state: HostState;
  @ApiProperty() version: number;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}
