import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiWriteErrors } from '../common/api-responses';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { ClustersService } from './clusters.service';
import { ClusterView, CreateClusterDto, ListClustersQuery, UpdateClusterDto } from './dto/cluster.dto';
import { InventorySyncDto, InventorySyncResult } from './dto/inventory-sync.dto';
import { InventorySyncService } from './inventory-sync.service';

@ApiTags('inventory')
@Controller('clusters')
export class ClustersController {
  constructor(
    private readonly clusters: ClustersService,
    private readonly inventorySync: InventorySyncService,
  ) {}

  @Post()
  @ApiWriteErrors()
  create(@Body() dto: CreateClusterDto, @RequestActor() actor: Actor): Promise<ClusterView> {
    return this.clusters.create(dto, actor);
  }

  @Get()
  @ApiOkResponse({ type: PageOf(ClusterView) })
  list(@Query() query: ListClustersQuery) {
    return this.clusters.list(query);
  }

  @Get(':id')
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<ClusterView> {
    return this.clusters.get(id);
  }

  @Patch(':id')
  @ApiWriteErrors()
  update(@IdParam() id: string, @Body() dto: UpdateClusterDto, @RequestActor() actor: Actor): Promise<ClusterView> {
    return this.clusters.update(id, dto, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiWriteErrors()
  remove(@IdParam() id: string, @RequestActor() actor: Actor): Promise<void> {
    return this.clusters.remove(id, actor);
  }

  /** Upserts hosts and VMs by name in one transaction; with `prune`, removes those not listed. */
  @Put(':id/inventory')
  @ApiOkResponse({ type: InventorySyncResult })
  @ApiWriteErrors()
  syncInventory(@IdParam() id: string, @Body() dto: InventorySyncDto, @RequestActor() actor: Actor): Promise<InventorySyncResult> {
    return this.inventorySync.sync(id, dto, actor);
  }
}
