import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IdParam } from '../common/id.pipe';
import { PageQuery } from '../common/pagination';
import { IsId, Optional } from '../common/validators';
import { RECOMMENDATION_STATUSES, RecommendationStatus } from './recommendation.entity';
import { RecommendationsService } from './recommendations.service';
import { SendsJsonText } from '../common/json-page';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';

export class RecommendationQueryDto extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  clusterId?: string;

  @ApiPropertyOptional({ enum: RECOMMENDATION_STATUSES })
  @Optional()
  @IsIn(RECOMMENDATION_STATUSES)
  status?: RecommendationStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  vmId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsId()
  passId?: string;
}

@ApiTags('recommendations')
@Controller('recommendations')
export class RecommendationsController {
  constructor(private readonly recommendations: RecommendationsService) {}

  @Get()
  @SendsJsonText()
  list(@Query() query: RecommendationQueryDto) {
    return this.recommendations.list(query);
  }

  @Get(':id')
  get(@IdParam() id: string) {
    return this.recommendations.get(id);
  }

  /** Starts the migration (with the rest of its affinity group); 409 if it is no longer pending or its VM moved meanwhile. */
  @Post(':id/apply')
  @HttpCode(200)
  apply(@IdParam() id: string, @RequestActor() actor: Actor) {
    return this.recommendations.apply(id, { recheck: true, actor });
  }

  @Post(':id/dismiss')
  @HttpCode(200)
  dismiss(@IdParam() id: string, @RequestActor() actor: Actor) {
    return this.recommendations.dismiss(id, actor);
  }
}
