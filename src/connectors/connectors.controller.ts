import { Body, Controller, Delete, Get, HttpCode, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequestActor } from '../auth/request-actor';
import { ApiWriteErrors } from '../common/api-responses';
import { IdParam } from '../common/id.pipe';
import { Actor } from '../events/actor';
import { ConnectorsService } from './connectors.service';
import { ConnectorView, PutConnectorDto } from './dto/connector.dto';

@ApiTags('connectors')
@Controller('clusters/:id/connector')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorsService) {}

  /** The connector's kind, settings and state (ok, degraded and why, last sync and collection); never its credentials. */
  @Get()
  @ApiOkResponse({ type: ConnectorView })
  @ApiNotFoundResponse({ description: 'No such cluster, or it has no connector' })
  get(@IdParam() id: string): Promise<ConnectorView> {
    return this.connectors.get(id);
  }

  /** Sets (or replaces) the cluster's connector; its sync and collection loops start at once. */
  @Put()
  @ApiOkResponse({ type: ConnectorView })
  @ApiWriteErrors()
  put(@IdParam() id: string, @Body() dto: PutConnectorDto, @RequestActor() actor: Actor): Promise<ConnectorView> {
    return this.connectors.put(id, dto, actor);
  }

  /** Stops the loops and forgets the connector and its credentials; the inventory stays. */
  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiWriteErrors()
  remove(@IdParam() id: string, @RequestActor() actor: Actor): Promise<void> {
    return this.connectors.remove(id, actor);
  }
}
