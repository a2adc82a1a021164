import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { PrometheusRegistry } from './prometheus-registry';

const EXPOSITION = Registry.PROMETHEUS_CONTENT_TYPE;

/** Served at /metrics, outside the API prefix, where Prometheus looks by default. */
@ApiTags('telemetry')
@Controller('metrics')
export class PrometheusController {
  constructor(private readonly prometheus: PrometheusRegistry) {}

  @Get()
  @ApiOperation({
    // Nest derived this id from the controller's former name; pinned so the OpenAPI document is unchanged.
    operationId: 'TelemetryController_scrape',
    summary: 'Prometheus metrics',
    description: [
      'Text exposition format 0.0.4, for Prometheus to scrape. Gauges are computed at scrape time:',
      '`drs_cluster_imbalance`, `drs_cluster_imbalance_target`, `drs_cluster_balanced` {cluster_id, cluster};',
      '`drs_host_utilization` {cluster_id, host_id, host, resource = cpu | memory} (fraction of capacity);',
      '`drs_cluster_score` {cluster_id, cluster} (0–100, demand-weighted share of VM demand served), `drs_contended_vms`',
      '{cluster_id, cluster}, `drs_cluster_demand_unmet` {cluster_id, cluster, resource = cpu (MHz) | memory (MiB)},',
      '`drs_vm_contention` {cluster_id, cluster, vm_id, vm, host_id} (1 − served share; the 10 most contended VMs only);',
      '`drs_migrations` {cluster_id, state}; `drs_recommendations` {cluster_id, status}.',
      'Counted as things happen: `drs_samples_ingested_total`, `drs_pass_duration_seconds` {cluster_id, trigger},',
      '`drs_http_request_duration_seconds` {method, route (the pattern, e.g. /api/v1/vms/:id), status};',
      'plus the Node.js process metrics, prefixed `drs_`.',
    ].join(' '),
  })
  @ApiProduces(EXPOSITION)
  @ApiOkResponse({ description: 'The metrics', content: { [EXPOSITION]: { schema: { type: 'string' } } } })
  @Header('Content-Type', EXPOSITION)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.prometheus.exposition();
  }
}
