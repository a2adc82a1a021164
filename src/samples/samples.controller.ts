import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { IdParam } from '../common/id.pipe';
import { FormerOperationId } from '../common/operation-id';
import { Database } from '../database/database.service';
import { DemandService } from './demand.service';
import { DemandQuery, HistoryQueryDto, IngestResult, IngestSamplesDto } from './dto/samples.dto';
import { SamplesService } from './samples.service';
import { requireHostFound, requireVmFound } from '../inventory/inventory.repository';

@ApiTags('utilization')
@Controller()
export class SamplesController {
  constructor(
    private readonly samples: SamplesService,
    private readonly demand: DemandService,
    private readonly db: Database,
  ) {}

  /** Up to 50,000 samples in one request, written all together or not at all. */
  @Post('samples')
  @FormerOperationId('MetricsController', 'ingest')
  @ApiBody({ type: IngestSamplesDto })
  @ApiCreatedResponse({ type: IngestResult })
  ingest(@Body() body: unknown): Promise<IngestResult> {
    return this.samples.ingest(body);
  }

  /** What the VM needs now, estimated from its samples over the look-back window. */
  @Get('vms/:id/demand')
  @FormerOperationId('MetricsController', 'vmDemand')
  vmDemand(@IdParam() id: string, @Query() query: DemandQuery) {
    return this.demand.vmDemand(id, this.demand.settings(query));
  }

  /** The host's load: the entitlements of its powered-on VMs over its capacity. */
  @Get('hosts/:id/utilization')
  @FormerOperationId('MetricsController', 'hostUtilization')
  hostUtilization(@IdParam() id: string, @Query() query: DemandQuery) {
    return this.demand.hostUtilization(id, this.demand.settings(query));
  }

  @Get('vms/:id/samples')
  @FormerOperationId('MetricsController', 'vmSamples')
  async vmSamples(@IdParam() id: string, @Query() query: HistoryQueryDto) {
    const vm = await requireVmFound(this.db.reader, id);
    return this.samples.history(vm, { from: query.from, to: query.to, stepSeconds: query.step });
  }

  @Get('hosts/:id/samples')
  @FormerOperationId('MetricsController', 'hostSamples')
  async hostSamples(@IdParam() id: string, @Query() query: HistoryQueryDto) {
    const host = await requireHostFound(this.db.reader, id);
    return this.samples.history(host, { from: query.from, to: query.to, stepSeconds: query.step });
  }
}
