import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every series this app exports starts with this, the process metrics included. */
export const METRIC_PREFIX = 'drs_';

/**
 * This app's own prom-client registry. Never the global default registry: tests boot several apps
 * in one process, and each must count only its own requests, samples and passes.
 */
@Injectable()
export class PrometheusRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition; scrape-time gauges read the database while it is built. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
