import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsName, IsVersion, IsWellFormed, Optional } from '../../common/validators';

export class CreateClusterDto {
  @ApiProperty({ example: 'prod-east', maxLength: 200 })
  @IsName()
  name: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  @IsWellFormed()
  description?: string;
}

export class UpdateClusterDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @Optional()
  @IsName()
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  @IsWellFormed()
  description?: string;

  @ApiPropertyOptional({ description: 'The version you read; the update is refused with 409 if it is stale' })
  @Optional()
  @IsVersion()
  version?: number;
}

export class ListClustersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Exact name' })
  @Optional()
  @IsName()
  name?: string;
}

export class ClusterView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty() version: number;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}
