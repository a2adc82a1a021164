// Picks and configures the migration driver from one plain config object (built from env at boot).
import { CommandMigrationDriver, DEFAULT_COMMAND_DRIVER_OPTIONS, type CommandDriverOptions } from './command-driver';
import type { MigrationDriver } from './migration-driver';
import { withDefaults } from './options';
import { DEFAULT_SIMULATED_DRIVER_OPTIONS, SimulatedMigrationDriver } from './simulated-driver';

export const MIGRATION_DRIVER_NAMES = ['simulated', 'command'] as const;
export type MigrationDriverName = (typeof MIGRATION_DRIVER_NAMES)[number];

export interface MigrationDriverConfig {
  driver: MigrationDriverName;
  // simulated driver
  timeScale: number;
  stunBudgetMs: number;
  defaultDirtyRateMibPerSecond: number;
  timeLimitSeconds: number;
  maxStalledRounds: number;
  progressIntervalMs: number;
  failureProbability: number;
  failVmNames: Iterable<string>;
  failHostNames: Iterable<string>;
  random?: () => number;
  // command driver
  command: Partial<CommandDriverOptions>;
}

/** Everything optional; what is left out takes the defaults below. */
export type MigrationDriverConfigInput = Partial<Omit<MigrationDriverConfig, 'command'>> & {
  command?: Partial<CommandDriverOptions>;
};

export const DEFAULT_MIGRATION_DRIVER_CONFIG: MigrationDriverConfig = {
  driver: 'simulated',
  timeScale: DEFAULT_SIMULATED_DRIVER_OPTIONS.timeScale,
  stunBudgetMs: DEFAULT_SIMULATED_DRIVER_OPTIONS.stunBudgetMs,
  defaultDirtyRateMibPerSecond: DEFAULT_SIMULATED_DRIVER_OPTIONS.defaultDirtyRateMibPerSecond,
  timeLimitSeconds: DEFAULT_SIMULATED_DRIVER_OPTIONS.timeLimitSeconds,
  maxStalledRounds: DEFAULT_SIMULATED_DRIVER_OPTIONS.maxStalledRounds,
  progressIntervalMs: DEFAULT_SIMULATED_DRIVER_OPTIONS.progressIntervalMs,
  failureProbability: 0,
  failVmNames: [],
  failHostNames: [],
  command: { ...DEFAULT_COMMAND_DRIVER_OPTIONS },
};

/** Throws on an invalid configuration, so a bad setting stops the boot instead of every migration. */
export function createMigrationDriver(input: MigrationDriverConfigInput = {}): MigrationDriver {
  const config: MigrationDriverConfig = {
    ...withDefaults(DEFAULT_MIGRATION_DRIVER_CONFIG, input),
    command: withDefaults(DEFAULT_MIGRATION_DRIVER_CONFIG.command, input.command),
  };
  switch (config.driver) {
    case 'simulated':
      return new SimulatedMigrationDriver({
        timeScale: config.timeScale,
        stunBudgetMs: config.stunBudgetMs,
        defaultDirtyRateMibPerSecond: config.defaultDirtyRateMibPerSecond,
        timeLimitSeconds: config.timeLimitSeconds,
        maxStalledRounds: config.maxStalledRounds,
        progressIntervalMs: config.progressIntervalMs,
        failureProbability: config.failureProbability,
        failVmNames: config.failVmNames,
        failHostNames: config.failHostNames,
        ...(config.random ? { random: config.random } : {}),
      });
    case 'command': {
      const { migrate, ...rest } = config.command;
      if (!migrate || migrate.length === 0) {
        throw new Error(
          'the command migration driver needs command.migrate, an argv template such as ' +
            '["virsh", "migrate", "--live", "{vm}", "qemu+ssh://{targetHost}/system"]',
        );
      }
      return new CommandMigrationDriver({ ...rest, migrate });
    }
    default:
      throw new Error(`unknown migration driver ${JSON.stringify(config.driver)} (known: ${MIGRATION_DRIVER_NAMES.join(', ')})`);
  }
}
