import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import type { SectionLookup } from '../config/settings';
import { ParseBoolean, ParseInt } from '../config/transforms';
import { LiveMigrationSettings } from '../live-migration/live-migration.settings';

/** The demo cluster, driven on a real trace. */
export class SimulatorSettings {
  /** On an empty database, seed and drive a demo cluster on a real trace. Turn off for production. */
  @ParseBoolean()
  @IsBoolean()
  DEMO_ENABLED = true;

  /** Real seconds in which the demo plays one trace day. */
  @ParseInt()
  @IsInt()
  @Min(60)
  @Max(86400)
  DEMO_DAY_SECONDS = 1200;

  @ParseInt()
  @IsInt()
  @Min(2)
  @Max(100)
  DEMO_HOSTS = 8;

  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(1052)
  DEMO_VMS = 120;

  /** How often the demo posts a round of samples. */
  @ParseInt()
  @IsInt()
  @Min(100)
  @Max(60_000)
  DEMO_SAMPLE_INTERVAL_MS = 2000;

  /**
   * The demo seeds made-up hosts and VMs and automates them fully: with a driver that moves real VMs it
   * would run real migration commands against names nobody chose, so the two never start together.
   */
  static crossCheck(lookup: SectionLookup): string[] {
    const demo = lookup(SimulatorSettings);
    const driver = lookup(LiveMigrationSettings)?.MIGRATION_DRIVER;
    if (!demo?.DEMO_ENABLED || driver === undefined || driver === 'simulated') return [];
    return [
      `DEMO_ENABLED=true: the demo seeds made-up hosts and VMs and migrates them, so it runs only with MIGRATION_DRIVER=simulated; ` +
        `set DEMO_ENABLED=false to use MIGRATION_DRIVER=${driver}`,
    ];
  }
}
