import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiWriteErrors } from '../common/api-responses';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { CreateGroupDto, ListGroupsQuery, UpdateGroupDto, GroupView } from './dto/group.dto';
import { GroupsService } from './groups.service';

@ApiTags('inventory')
@Controller('groups')
export class GroupsController {
  constructor(private readonly service: GroupsService) {}

  @Post()
  @ApiWriteErrors()
  create(@Body() dto: CreateGroupDto, @RequestActor() actor: Actor): Promise<GroupView> {
    return this.service.create(dto, actor);
  }

  @Get()
  @ApiOkResponse({ type: PageOf(GroupView) })
  list(@Query() query: ListGroupsQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<GroupView> {
    return this.service.get(id);
  }

  @Patch(':id')
  @ApiWriteErrors()
  update(@IdParam() id: string, @Body() dto: UpdateGroupDto, @RequestActor() actor: Actor): Promise<GroupView> {
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
