import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiWriteErrors } from '../common/api-responses';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { CreateRuleDto, ListRulesQuery, UpdateRuleDto, RuleView } from './dto/rule.dto';
import { RulesService } from './rules.service';

@ApiTags('rules')
@Controller('rules')
export class RulesController {
  constructor(private readonly service: RulesService) {}

  @Post()
  @ApiWriteErrors()
  create(@Body() dto: CreateRuleDto, @RequestActor() actor: Actor): Promise<RuleView> {
    return this.service.create(dto, actor);
  }

  @Get()
  @ApiOkResponse({ type: PageOf(RuleView) })
  list(@Query() query: ListRulesQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<RuleView> {
    return this.service.get(id);
  }

  @Patch(':id')
  @ApiWriteErrors()
  update(@IdParam() id: string, @Body() dto: UpdateRuleDto, @RequestActor() actor: Actor): Promise<RuleView> {
    return this.service.update(id, dto, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiWriteErrors()
  remove(@IdParam() id: string, @RequestActor() actor: Actor): Promise<void> {
    return this.service.remove(id, actor);
  }
}
