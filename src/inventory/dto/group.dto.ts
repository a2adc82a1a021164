import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId, IsName, IsVersion, Optional } from '../../common/validators';
import { GROUP_KINDS, GroupKind, PLATFORM_SOURCES, type PlatformSource } from '../group.entity';

export const MAX_GROUP_MEMBERS = 10_000;

export class CreateGroupDto {
  @ApiProperty({ format: 'uuid' })
  @IsId()
  clusterId: string;

  @ApiProperty({ example: 'db-tier', maxLength: 200 })
  @IsName()
  name: string;

  @ApiProperty({ enum: GROUP_KINDS, description: 'vm: members are VM ids; host: members are host ids' })
  @IsIn(GROUP_KINDS)
  kind: GroupKind;

  @ApiPropertyOptional({ type: [String], format: 'uuid', maxItems: MAX_GROUP_MEMBERS, default: [] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_GROUP_MEMBERS)
  @ArrayUnique()
  @IsId({ each: true })
  memberIds?: string[];
}

export class UpdateGroupDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;

  @ApiPropertyOptional({ type: [String], format: 'uuid', maxItems: MAX_GROUP_MEMBERS, description: 'Replaces the members' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_GROUP_MEMBERS)
  @ArrayUnique()
  @IsId({ each: true })
  memberIds?: string[];

  @ApiPropertyOptional({ description: 'The version you read; the update is refused with 409 if it is stale' })
  @Optional()
  @IsVersion()
  version?: number;
}

export class ListGroupsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ enum: GROUP_KINDS })
  @Optional()
  @IsIn(GROUP_KINDS)
  kind?: GroupKind;

  @ApiPropertyOptional({ description: 'Exact name' })
  @Optional()
  @IsName()
  name?: string;
}

export class GroupView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: GROUP_KINDS }) kind: GroupKind;
  @ApiProperty({ type: [String] }) memberIds: string[];
  @ApiProperty({
    enum: PLATFORM_SOURCES,
    nullable: true,
    description: 'The platform this group was imported from (read-only here); null: made through the API',
  })
  source: PlatformSource | null;
  @ApiProperty() version: number;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}
