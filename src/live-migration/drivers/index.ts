export type {
  AdoptedEnd,
  AdoptOptions,
  JobHost,
  LaunchHooks,
  MigrationHandle,
  MigrationDriver,
  MigrationJob,
  MigrationOutcome,
  MigrationProgress,
  VmLocation,
} from './migration-driver';
export {
  DEFAULT_MAX_PRECOPY_ROUNDS,
  DEFAULT_MAX_STALLED_ROUNDS,
  DEFAULT_PRECOPY_TIME_LIMIT_SECONDS,
  DEFAULT_STUN_BUDGET_MS,
  gbpsToMibPerSecond,
  precopyRounds,
  projectPrecopy,
  simulatePrecopy,
} from './precopy';
export type { PrecopyFailureReason, PrecopyParams, PrecopyProjection, PrecopyResult, PrecopyRound } from './precopy';
export {
  DEFAULT_DIRTY_RATE_MIB_PER_SECOND,
  DEFAULT_SIMULATED_DRIVER_OPTIONS,
  SimulatedMigrationDriver,
  realSleep,
} from './simulated-driver';
export type { SimulatedDriverOptions, Sleep } from './simulated-driver';
export { CommandMigrationDriver, DEFAULT_COMMAND_DRIVER_OPTIONS, parseProgressLine } from './command-driver';
export type { CommandDriverOptions } from './command-driver';
export { ARGV_PLACEHOLDERS, UnsafeArgumentError, expandArgvTemplate, validateArgvTemplate } from './argv-template';
export type { ArgvPlaceholder } from './argv-template';
export { DEFAULT_MIGRATION_DRIVER_CONFIG, MIGRATION_DRIVER_NAMES, createMigrationDriver } from './create-migration-driver';
export type { MigrationDriverConfig, MigrationDriverConfigInput, MigrationDriverName } from './create-migration-driver';
