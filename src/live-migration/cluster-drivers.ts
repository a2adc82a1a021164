// Which driver moves a cluster's VMs: the configured one (MIGRATION_DRIVER), unless a module above
// carries out that cluster's migrations through its platform (the connectors: libvirt, …). Declared
// here and filled at start-up, so that live-migration imports nothing upward.
import { Inject, Injectable } from '@nestjs/common';
import type { MigrationDriver } from './drivers';
import { MIGRATION_DRIVER, type MigrationEngineSettings } from './migration-settings';

/** A driver held for one attempt: `release` once the attempt (or its adoption) is over, whatever the outcome. */
export interface LeasedDriver {
  driver: MigrationDriver;
  release(): void;
}

export interface ClusterDriverSource {
  /**
   * The driver for the cluster's migrations, or null when this source has nothing to do with the cluster.
   * Throws when the cluster's migrations are this source's but it cannot carry them out now (its
   * configuration cannot be used): the engine then starts nothing rather than fall back to another driver.
   */
  lease(clusterId: string): Promise<LeasedDriver | null>;
}

@Injectable()
export class ClusterDrivers {
  private readonly sources: ClusterDriverSource[] = [];

  constructor(@Inject(MIGRATION_DRIVER) readonly configured: MigrationDriver) {}

  register(source: ClusterDriverSource): void {
    this.sources.push(source);
  }

  async lease(clusterId: string): Promise<LeasedDriver> {
    for (const source of this.sources) {
      const leased = await source.lease(clusterId);
      if (leased) return leased;
    }
    return { driver: this.configured, release: () => undefined };
  }
}

/**
 * The engine's deadline for one attempt of this driver: its own time limit plus a margin when it
 * enforces one (the engine's deadline is only a backstop then), else the configured driver's.
 */
export function attemptLimitFor(
  driver: MigrationDriver,
  settings: Pick<MigrationEngineSettings, 'attemptLimitMs' | 'attemptLimitText'>,
): Pick<MigrationEngineSettings, 'attemptLimitMs' | 'attemptLimitText'> {
  if (driver.timeLimitMs === undefined) return settings;
  const attemptLimitMs = driver.timeLimitMs + ENGINE_BACKSTOP_MARGIN_MS;
  return { attemptLimitMs, attemptLimitText: `${attemptLimitMs / 1000} s` };
}

/** How long after a driver's own time limit the engine gives up on it. */
const ENGINE_BACKSTOP_MARGIN_MS = 30_000;
