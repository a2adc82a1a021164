import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsInt, Max, Min } from 'class-validator';
import { IsId, IsName, Optional } from '../../common/validators';
import { VM_LIMITS } from '../../inventory/dto/vm.dto';

export class PlacementRequestDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;

  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.vcpus })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.vcpus)
  vcpus: number;

  @ApiProperty({ minimum: 1, maximum: VM_LIMITS.memoryMib })
  @IsInt()
  @Min(1)
  @Max(VM_LIMITS.memoryMib)
  memoryMib: number;

  @ApiPropertyOptional({ minimum: 0, maximum: VM_LIMITS.cpuMhz, description: 'Expected CPU demand; default: all vCPUs busy' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(VM_LIMITS.cpuMhz)
  cpuMhz?: number;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'VM groups the new VM will join: their rules apply' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsId({ each: true })
  vmGroupIds?: string[];
}
