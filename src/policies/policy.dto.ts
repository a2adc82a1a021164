import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { BalancingPolicyDto } from './balancing-policy.dto';
import { IsObjectEach, IsVersion, Optional } from '../common/validators';
import { AUTOMATION_LEVELS, AutomationLevel, ClusterPolicy, Weekday, WEEKDAYS } from './policy';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function IsTimeZone(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isTimeZone',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be an IANA time zone such as Europe/Paris', ...options },
      validator: { validate: isTimeZone },
    });
}

export class BlackoutWindowDto {
  @ApiProperty({ enum: WEEKDAYS, isArray: true, example: ['sat', 'sun'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(7)
  @ArrayUnique()
  @IsIn(WEEKDAYS, { each: true })
  days: Weekday[];

  @ApiProperty({ example: '22:00', description: 'HH:MM, in the policy time zone' })
  @IsString()
  @Matches(HHMM, { message: '$property must be HH:MM (24-hour)' })
  start: string;

  @ApiProperty({ example: '06:00', description: 'HH:MM; before start means the window runs past midnight' })
  @IsString()
  @Matches(HHMM, { message: '$property must be HH:MM (24-hour)' })
  end: string;
}

/** A cluster's policy; fields left out take their defaults. */
export class ClusterPolicyDto extends BalancingPolicyDto {
  @ApiPropertyOptional({ enum: AUTOMATION_LEVELS, default: 'partially-automated' })
  @Optional()
  @IsIn(AUTOMATION_LEVELS)
  automationLevel?: AutomationLevel;

  @ApiPropertyOptional({ minimum: 10, maximum: 86400, default: 300 })
  @Optional()
  @IsInt()
  @Min(10)
  @Max(86400)
  passIntervalSeconds?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 64, default: 4, description: 'Migrations at once per host, as source or target' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(64)
  maxConcurrentPerHost?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1024, default: 16 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(1024)
  maxConcurrentPerCluster?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 7 * 86400,
    default: 1800,
    description: 'A VM moved for balancing is not moved again for balancing within this time',
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(7 * 86400)
  cooldownSeconds?: number;

  @ApiPropertyOptional({
    type: [BlackoutWindowDto],
    description: 'Weekly windows in which no balancing migration starts (evacuations still run)',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsObjectEach()
  @ValidateNested({ each: true })
  @Type(() => BlackoutWindowDto)
  blackoutWindows?: BlackoutWindowDto[];

  @ApiPropertyOptional({ default: 'UTC', example: 'Europe/Paris' })
  @Optional()
  @IsString()
  @MaxLength(64)
  @IsTimeZone()
  timeZone?: string;

  @ApiPropertyOptional({ default: false, description: 'Record recommendations, never migrate' })
  @Optional()
  @IsBoolean()
  dryRun?: boolean;
}

export class PutClusterPolicyDto extends ClusterPolicyDto {
  @ApiPropertyOptional({ description: 'The version you read; refused with 409 if stale' })
  @Optional()
  @IsVersion()
  version?: number;
}

export class ClusterPolicyView {
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty({ description: 'The policy in force: what was set, defaults for the rest' }) policy: ClusterPolicy;
  @ApiProperty({ description: 'Only the fields the operator set' }) overrides: Record<string, unknown>;
  @ApiProperty({ description: '0 while the cluster runs on defaults' }) version: number;
}
