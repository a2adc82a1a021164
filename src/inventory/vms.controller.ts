import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiWriteErrors } from '../common/api-responses';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { CreateVmDto, ListVmsQuery, UpdateVmDto, VmView } from './dto/vm.dto';
import { VmsService } from './vms.service';
import { SendsJsonText } from '../common/json-page';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';

@ApiTags('inventory')
@Controller('vms')
export class VmsController {
  constructor(private readonly service: VmsService) {}

  @Post()
  @ApiWriteErrors()
  create(@Body() dto: CreateVmDto, @RequestActor() actor: Actor): Promise<VmView> {
    return this.service.create(dto, actor);
  }

  @Get()
  @SendsJsonText()
  @ApiOkResponse({ type: PageOf(VmView) })
  list(@Query() query: ListVmsQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<VmView> {
    return this.service.get(id);
  }

  @Patch(':id')
  @ApiWriteErrors()
  update(@IdParam() id: string, @Body() dto: UpdateVmDto, @RequestActor() actor: Actor): Promise<VmView> {
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
