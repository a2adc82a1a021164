import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiWriteErrors } from '../common/api-responses';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { CreateHostDto, ListHostsQuery, UpdateHostDto, HostView } from './dto/host.dto';
import { HostsService } from './hosts.service';
import { SendsJsonText } from '../common/json-page';

@ApiTags('inventory')
@Controller('hosts')
export class HostsController {
  constructor(private readonly service: HostsService) {}

  @Post()
  @ApiWriteErrors()
  create(@Body() dto: CreateHostDto, @RequestActor() actor: Actor): Promise<HostView> {
    return this.service.create(dto, actor);
  }

  @Get()
  @SendsJsonText()
  @ApiOkResponse({ type: PageOf(HostView) })
  list(@Query() query: ListHostsQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<HostView> {
    return this.service.get(id);
  }

  @Patch(':id')
  @ApiWriteErrors()
  update(@IdParam() id: string, @Body() dto: UpdateHostDto, @RequestActor() actor: Actor): Promise<HostView> {
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
