import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, ValidateIf } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId, IsName, IsVersion, Optional } from '../../common/validators';
import { RULE_ENFORCEMENTS, RULE_KINDS, RULE_RELATIONS, RuleEnforcement, RuleKind, RuleRelation } from '../rule.entity';
import { PLATFORM_SOURCES, type PlatformSource } from '../../inventory/group.entity';

export class CreateRuleDto {
  @ApiProperty({ format: 'uuid' })
  @IsId()
  clusterId: string;

  @ApiProperty({ example: 'keep-db-apart', maxLength: 200 })
  @IsName()
  name: string;

  @ApiProperty({
    enum: RULE_KINDS,
    description: 'affinity: keep the VMs together; anti-affinity: keep them apart; vm-host: VMs run-on / not-run-on a host group',
  })
  @IsIn(RULE_KINDS)
  kind: RuleKind;

  @ApiProperty({ format: 'uuid', description: 'A VM group of the same cluster' })
  @IsId()
  vmGroupId: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'vm-host rules only: a host group of the same cluster' })
  @Optional()
  @IsId()
  hostGroupId?: string;

  @ApiPropertyOptional({ enum: RULE_RELATIONS, description: 'vm-host rules only' })
  @Optional()
  @IsIn(RULE_RELATIONS)
  relation?: RuleRelation;

  @ApiProperty({ enum: RULE_ENFORCEMENTS, description: 'hard (must): never broken; soft (should): kept unless it overloads a host' })
  @IsIn(RULE_ENFORCEMENTS)
  enforcement: RuleEnforcement;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateRuleDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;

  @ApiPropertyOptional({ enum: RULE_KINDS })
  @Optional()
  @IsIn(RULE_KINDS)
  kind?: RuleKind;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  vmGroupId?: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsId()
  hostGroupId?: string | null;

  @ApiPropertyOptional({ enum: RULE_RELATIONS, nullable: true })
  @Optional()
  @ValidateIf((_, value) => value !== null)
  @IsIn(RULE_RELATIONS)
  relation?: RuleRelation | null;

  @ApiPropertyOptional({ enum: RULE_ENFORCEMENTS })
  @Optional()
  @IsIn(RULE_ENFORCEMENTS)
  enforcement?: RuleEnforcement;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'The version you read; the update is refused with 409 if it is stale' })
  @Optional()
  @IsVersion()
  version?: number;
}

export class ListRulesQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ enum: RULE_KINDS })
  @Optional()
  @IsIn(RULE_KINDS)
  kind?: RuleKind;

  @ApiPropertyOptional({ description: 'Exact name' })
  @Optional()
  @IsName()
  name?: string;
}

export class RuleView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: RULE_KINDS }) kind: RuleKind;
  @ApiProperty({ format: 'uuid' }) vmGroupId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) hostGroupId: string | null;
  @ApiProperty({ enum: RULE_RELATIONS, nullable: true }) relation: RuleRelation | null;
  @ApiProperty({ enum: RULE_ENFORCEMENTS }) enforcement: RuleEnforcement;
  @ApiProperty() enabled: boolean;
  @ApiProperty({
    enum: PLATFORM_SOURCES,
    nullable: true,
    description: 'The platform this rule was imported from (read-only here); null: made through the API',
  })
  source: PlatformSource | null;
  @ApiProperty() version: number;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}
