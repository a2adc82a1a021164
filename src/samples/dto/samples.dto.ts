import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { DEMAND_STATISTICS, DemandStatistic } from '../demand';
import { toEpochMs } from '../../common/validators';
import { MAX_SAMPLES_PER_REQUEST } from '../sample-input';

/** One utilization sample (documentation; validated by a compiled JSON Schema). */
export class SampleDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The VM sampled (or hostId, or clusterId with vmName or hostName)' })
  vmId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) hostId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'With vmName or hostName' }) clusterId?: string;
  @ApiPropertyOptional() vmName?: string;
  @ApiPropertyOptional() hostName?: string;
  @ApiProperty({
    oneOf: [
      { type: 'integer', description: 'epoch milliseconds' },
      { type: 'string', format: 'date-time' },
    ],
  })
  timestamp: number | string;
  @ApiProperty({ minimum: 0, description: 'CPU used, MHz' }) cpuMhz: number;
  @ApiProperty({ minimum: 0, description: 'Memory the guest touched recently, MiB' }) memoryActiveMib: number;
  @ApiProperty({ minimum: 0, description: 'Memory backed by host pages, MiB' }) memoryConsumedMib: number;
  @ApiPropertyOptional({ minimum: 0, description: 'Pages dirtied per second, MiB/s (live-migration cost)' })
  memoryDirtyMibPerSecond?: number;
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 100,
    description: "CPU ready: share of the time the VM's vCPUs waited for a physical CPU, % (contention; vSphere's cpu.ready)",
  })
  cpuReadyPercent?: number;
}

export class IngestSamplesDto {
  @ApiProperty({ type: [SampleDto], minItems: 1, maxItems: MAX_SAMPLES_PER_REQUEST })
  samples: SampleDto[];
}

export class IngestResult {
  @ApiProperty() accepted: number;
}

export class DemandQuery {
  @ApiPropertyOptional({ enum: DEMAND_STATISTICS, default: 'mean' })
  @IsOptional()
  @IsIn(DEMAND_STATISTICS)
  statistic?: DemandStatistic;

  @ApiPropertyOptional({ minimum: 10, maximum: 86400, default: 300, description: 'Look-back window in seconds' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86400)
  windowSeconds?: number;

  @ApiPropertyOptional({
    minimum: 10,
    maximum: 86400,
    default: 10800,
    description: "Look-back of the VM's swing (cpuSigmaMhz) in seconds; the window when that is longer",
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(86400)
  swingWindowSeconds?: number;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ description: 'Start: ISO-8601 or epoch ms (default: one hour before `to`)' })
  @IsOptional()
  @Transform(toEpochMs)
  @IsInt({ message: 'from must be an ISO-8601 date-time or epoch milliseconds' })
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ description: 'End: ISO-8601 or epoch ms (default: now)' })
  @IsOptional()
  @Transform(toEpochMs)
  @IsInt({ message: 'to must be an ISO-8601 date-time or epoch milliseconds' })
  @Min(0)
  to?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 86400, description: 'Average into buckets of this many seconds' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  step?: number;
}
