import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiWriteErrors } from '../common/api-responses';
import { IdParam } from '../common/id.pipe';
import { PageOf } from '../common/page-view';
import { CreateMigrationDto, ListMigrationsQuery, MigrationView } from './dto/migration.dto';
import { LiveMigrationService } from './live-migration.service';
import { SendsJsonText } from '../common/json-page';
import { Actor } from '../events/actor';
import { RequestActor } from '../auth/request-actor';

@ApiTags('migrations')
@Controller('migrations')
export class LiveMigrationsController {
  constructor(private readonly service: LiveMigrationService) {}

  /** Queues a manual move of a VM to a host. Refused (409/422, with the reasons) when the target is not connected, lacks room, or a hard rule forbids it. */
  @Post()
  @ApiCreatedResponse({ type: MigrationView })
  @ApiWriteErrors()
  create(@Body() dto: CreateMigrationDto, @RequestActor() actor: Actor): Promise<MigrationView> {
    return this.service.requestMove(dto, actor);
  }

  /** Newest first. */
  @Get()
  @SendsJsonText()
  @ApiOkResponse({ type: PageOf(MigrationView) })
  list(@Query() query: ListMigrationsQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: MigrationView })
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<MigrationView> {
    return this.service.get(id);
  }

  /** Cancels a queued migration at once, or aborts a running one (202 while its driver is still stopping). The VM stays on its source. */
  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: MigrationView, description: 'Cancelled (or it finished first: see state)' })
  @ApiAcceptedResponse({ type: MigrationView, description: 'Still stopping; it ends cancelled' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'Already succeeded, failed or cancelled' })
  async cancel(@IdParam() id: string, @RequestActor() actor: Actor, @Res({ passthrough: true }) res: Response): Promise<MigrationView> {
    const { migration, final } = await this.service.cancel(id, actor);
    if (!final) res.status(202);
    return migration;
  }
}
