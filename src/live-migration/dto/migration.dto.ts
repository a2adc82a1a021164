import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId, IsWellFormed, Optional, toEpochMs } from '../../common/validators';
import { MIGRATION_STATES, MIGRATION_TRIGGERS, MigrationState, MigrationTrigger } from '../live-migration.entity';

/** A manual move. The driver is configuration, never part of a request. */
export class CreateMigrationDto {
  @ApiProperty({ format: 'uuid', description: 'The VM to move' })
  @IsId()
  vmId: string;

  @ApiProperty({
    format: 'uuid',
    description: 'The host to move it to: connected, in the same cluster, with room, allowed by the hard rules',
  })
  @IsId()
  targetHostId: string;

  @ApiPropertyOptional({ maxLength: 2000, description: 'Why, for the record', default: 'manual move' })
  @Optional()
  @IsString()
  @MaxLength(2000)
  @IsWellFormed()
  reason?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 5, default: 2, description: 'Lower starts first; 1 is for mandatory moves' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(5)
  priority?: number;
}

const commaList = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value);

export class ListMigrationsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  vmId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Migrations from or to this host' })
  @Optional()
  @IsId()
  hostId?: string;

  @ApiPropertyOptional({
    type: String,
    example: 'queued,running',
    description: `One state or several, comma-separated: ${MIGRATION_STATES.join(', ')}`,
  })
  @Optional()
  @Transform(commaList)
  @ArrayMaxSize(MIGRATION_STATES.length)
  @IsIn(MIGRATION_STATES, { each: true, message: `state must be one or more of: ${MIGRATION_STATES.join(', ')}` })
  state?: MigrationState[];

  @ApiPropertyOptional({ enum: MIGRATION_TRIGGERS })
  @Optional()
  @IsIn(MIGRATION_TRIGGERS)
  trigger?: MigrationTrigger;

  @ApiPropertyOptional({ description: 'Created at or after: ISO-8601 or epoch ms' })
  @Optional()
  @Transform(toEpochMs)
  @IsInt({ message: 'from must be an ISO-8601 date-time or epoch milliseconds' })
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ description: 'Created before: ISO-8601 or epoch ms' })
  @Optional()
  @Transform(toEpochMs)
  @IsInt({ message: 'to must be an ISO-8601 date-time or epoch milliseconds' })
  @Min(0)
  to?: number;
}

export class MigrationProgressView {
  @ApiProperty({ description: '0–100; 100 only once succeeded' }) percent: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Pre-copy round in progress (0 = the full memory copy)' }) round: number | null;
  @ApiProperty() copiedMib: number;
  @ApiProperty({ nullable: true, type: Number }) remainingMib: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Estimated wall-clock seconds left' }) etaSeconds: number | null;
}

export class MigrationView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty({ format: 'uuid' }) vmId: string;
  @ApiProperty({ format: 'uuid' }) sourceHostId: string;
  @ApiProperty({ format: 'uuid' }) targetHostId: string;
  @ApiProperty({ enum: MIGRATION_STATES }) state: MigrationState;
  @ApiProperty({ enum: MIGRATION_TRIGGERS, description: 'Who asked' }) trigger: MigrationTrigger;
  @ApiProperty({ description: 'Why' }) reason: string;
  @ApiProperty({ minimum: 1, maximum: 5 }) priority: number;
  @ApiProperty({ nullable: true, type: String }) recommendationId: string | null;
  @ApiProperty({ description: 'Memory reserved on the target while queued or running' }) memoryMib: number;
  @ApiProperty({ description: 'simulated or command' }) driver: string;
  @ApiProperty() attempts: number;
  @ApiProperty() maxAttempts: number;
  @ApiProperty({ type: MigrationProgressView }) progress: MigrationProgressView;
  @ApiProperty({ nullable: true, type: Number, description: 'Switch-over stun of the successful attempt' }) downtimeMs: number | null;
  @ApiProperty({ nullable: true, type: Number }) durationSeconds: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the latest attempt failed' }) error: string | null;
  @ApiProperty({ description: 'A cancel was asked while it ran' }) cancelRequested: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Start of the latest attempt' }) startedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finishedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'A queued retry waits until then' }) nextAttemptAt:
    string | null;
  @ApiProperty() version: number;
}
