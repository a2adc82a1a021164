import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsNumber, Max, Min } from 'class-validator';
import { Optional } from '../common/validators';
import { DEMAND_STATISTICS, DemandStatistic } from '../samples/demand';
import { BASES, Basis } from './balancing-policy';

/** The policy fields that shape a plan; a plan request may override any of them for a what-if. */
export class BalancingPolicyDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 5, description: '1: mandatory moves only; 3: default; 5: most aggressive' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(5)
  migrationThreshold?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'Weight of CPU in the imbalance; cpuWeight + memoryWeight = 1' })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  cpuWeight?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1 })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  memoryWeight?: number;

  @ApiPropertyOptional({ enum: BASES, description: 'demand: balance what VMs use; configured: balance their configured size' })
  @Optional()
  @IsIn(BASES)
  cpuBasis?: Basis;

  @ApiPropertyOptional({ enum: BASES })
  @Optional()
  @IsIn(BASES)
  memoryBasis?: Basis;

  @ApiPropertyOptional({ enum: DEMAND_STATISTICS })
  @Optional()
  @IsIn(DEMAND_STATISTICS)
  demandStatistic?: DemandStatistic;

  @ApiPropertyOptional({ minimum: 10, maximum: 86400 })
  @Optional()
  @IsInt()
  @Min(10)
  @Max(86400)
  demandWindowSeconds?: number;

  @ApiPropertyOptional({
    minimum: 10,
    maximum: 86400,
    description:
      "Seconds over which each VM's swing (the standard deviation of its CPU samples, for forecast peaks and sampling noise) is measured; the demand window when that is longer (default 10800). Raw samples must be kept as long (SAMPLE_RAW_RETENTION_SECONDS)",
  })
  @Optional()
  @IsInt()
  @Min(10)
  @Max(86400)
  swingWindowSeconds?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 10000, description: 'Moves per pass (mandatory moves are never capped)' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(10000)
  maxMovesPerPass?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10000 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(10000)
  maxMovesPerHost?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: "λ: drop of N·I² a balancing move must bring per mean host's memory it copies (default 0.02)",
  })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  costWeight?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'Minimum drop of N·I² (the spread) for a balancing move' })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minGain?: number;

  @ApiPropertyOptional({ minimum: 0.1, maximum: 2, description: 'No move pushes a host above this CPU fraction' })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.1)
  @Max(2)
  cpuCeiling?: number;

  @ApiPropertyOptional({
    minimum: 0.1,
    maximum: 1.5,
    description: 'No move pushes a host above this memory fraction (1 = never overcommit)',
  })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.1)
  @Max(1.5)
  memoryCeiling?: number;
}

/** The same what-if fields in a query string (`GET /clusters/{id}/balance?migrationThreshold=5`), where numbers arrive as text. */
export class BalanceQueryDto extends BalancingPolicyDto {}

const NUMERIC_FIELDS = [
  'migrationThreshold',
  'cpuWeight',
  'memoryWeight',
  'demandWindowSeconds',
  'swingWindowSeconds',
  'maxMovesPerPass',
  'maxMovesPerHost',
  'costWeight',
  'minGain',
  'cpuCeiling',
  'memoryCeiling',
] as const satisfies readonly (keyof BalancingPolicyDto)[];
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
// Only the query class converts: a JSON body must send numbers as numbers.
for (const field of NUMERIC_FIELDS) {
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : value))(
    BalanceQueryDto.prototype,
    field,
  );
}
