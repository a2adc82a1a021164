import { Controller, Get, Query } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, MaxLength, Min } from 'class-validator';
import { PageQuery } from '../common/pagination';
import { IsId, Optional } from '../common/validators';
import { toEpochMs } from '../common/validators';
import { Actor } from './actor';
import { EventsService } from './events.service';
import { SendsJsonText } from '../common/json-page';

export class EventQueryDto extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The VM, host, pass, recommendation or migration' })
  @Optional()
  @IsId()
  subjectId?: string;

  @ApiPropertyOptional({ description: 'A type or a prefix of types: `migration` matches `migration.succeeded`' })
  @Optional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z][a-z0-9.-]*$/, { message: 'type must be lower-case words separated by dots' })
  type?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 or epoch ms' })
  @Optional()
  @Transform(toEpochMs)
  @IsInt({ message: 'from must be an ISO-8601 date-time or epoch milliseconds' })
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ description: 'ISO-8601 or epoch ms' })
  @Optional()
  @Transform(toEpochMs)
  @IsInt({ message: 'to must be an ISO-8601 date-time or epoch milliseconds' })
  @Min(0)
  to?: number;
}

export class EventView {
  @ApiProperty() id: number;
  @ApiProperty({ description: 'Epoch ms' }) timestamp: number;
  @ApiProperty({ nullable: true, type: String }) clusterId: string | null;
  @ApiProperty() subjectType: string;
  @ApiProperty({ nullable: true, type: String }) subjectId: string | null;
  @ApiProperty() type: string;
  @ApiProperty() message: string;
  @ApiProperty({ nullable: true, type: Object }) data: Record<string, unknown> | null;
  @ApiProperty({
    nullable: true,
    type: Object,
    description:
      'Who made the change through the API: `{"type":"token","id","name","role"}` (the token as it was then), or `{"type":"local"}` when access ' +
      'control is off; null for background work (scheduled passes, a migration running on)',
    example: { type: 'token', id: '6f1c0d52-8f0e-4c4e-9a57-1f2b3c4d5e6f', name: 'ci', role: 'operator' },
  })
  actor: Actor | null;
}

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  /** Newest first. */
  @Get()
  @SendsJsonText()
  list(@Query() query: EventQueryDto) {
    return this.events.list(query);
  }
}
