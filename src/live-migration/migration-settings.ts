// The engine's configuration, read once from the validated environment.
import { dirname, join, resolve } from 'node:path';
import { AppConfig } from '../config/app-config';
import { createMigrationDriver, type MigrationDriver } from './drivers';
import { usedPlaceholders, type ArgvPlaceholder } from './drivers/argv-template';

/** Injection token of the configured MigrationDriver. */
export const MIGRATION_DRIVER = Symbol('MigrationDriver');
/** Injection token of the engine's MigrationEngineSettings. */
export const MIGRATION_SETTINGS = Symbol('MigrationEngineSettings');

/** How long the command driver gives a command between SIGTERM and SIGKILL (its default). */
const COMMAND_KILL_GRACE_SECONDS = 10;
/** Real time never goes below this, however large the time scale: timers and the event loop jitter. */
const MIN_ATTEMPT_LIMIT_MS = 1000;

export interface MigrationEngineSettings {
  maxPerHost: number;
  maxPerCluster: number;
  maxAttempts: number;
  retryBackoffSeconds: number;
  /** Real milliseconds after which the engine aborts an attempt as timed out. */
  attemptLimitMs: number;
  /** The same limit in words, for the error of a timed-out attempt. */
  attemptLimitText: string;
  /** At most one progress write per migration this often. */
  progressWriteIntervalMs: number;
  /** How often the dispatcher looks at the queue when nothing woke it (rows written by others, retries due). */
  pollIntervalMs: number;
  /** What a cancel sends to a command's process group. */
  killSignal: NodeJS.Signals;
}

export function engineSettings(config: AppConfig): MigrationEngineSettings {
  const simulated = config.get('MIGRATION_DRIVER') === 'simulated';
  const attemptLimitMs = simulated
    ? Math.max(MIN_ATTEMPT_LIMIT_MS, (config.get('MIGRATION_TIME_LIMIT_SECONDS') * 1000) / config.get('MIGRATION_TIME_SCALE'))
    : // The command driver enforces its own timeout; this only catches a driver that never returns.
      (config.get('MIGRATION_COMMAND_TIMEOUT_SECONDS') + COMMAND_KILL_GRACE_SECONDS + 5) * 1000;
  const scale = config.get('MIGRATION_TIME_SCALE');
  const attemptLimitText = simulated
    ? `${config.get('MIGRATION_TIME_LIMIT_SECONDS')} simulated seconds (${attemptLimitMs / 1000} s of real time at time scale ${scale})`
    : `${attemptLimitMs / 1000} s`;
  return {
    attemptLimitText,
    maxPerHost: config.get('MIGRATION_MAX_PER_HOST'),
    maxPerCluster: config.get('MIGRATION_MAX_PER_CLUSTER'),
    maxAttempts: config.get('MIGRATION_MAX_ATTEMPTS'),
    retryBackoffSeconds: config.get('MIGRATION_RETRY_BACKOFF_SECONDS'),
    attemptLimitMs,
    progressWriteIntervalMs: 500,
    pollIntervalMs: 5000,
    killSignal: config.get('MIGRATION_KILL_SIGNAL'),
  };
}

export function driverFromConfig(config: AppConfig): MigrationDriver {
  return createMigrationDriver({
    driver: config.get('MIGRATION_DRIVER'),
    timeScale: config.get('MIGRATION_TIME_SCALE'),
    stunBudgetMs: config.get('MIGRATION_STUN_BUDGET_MS'),
    timeLimitSeconds: config.get('MIGRATION_TIME_LIMIT_SECONDS'),
    failureProbability: config.get('MIGRATION_FAILURE_PROBABILITY'),
    progressIntervalMs: 500,
    command: {
      migrate: config.get('MIGRATION_COMMAND') ?? undefined,
      reconcile: config.get('MIGRATION_RECONCILE_COMMAND') ?? undefined,
      timeoutSeconds: config.get('MIGRATION_COMMAND_TIMEOUT_SECONDS'),
      killGraceSeconds: COMMAND_KILL_GRACE_SECONDS,
      killSignal: config.get('MIGRATION_KILL_SIGNAL'),
      allowShell: config.get('MIGRATION_COMMAND_ALLOW_SHELL'),
      // Beside the database: commands write there while they run, whether or not the service does.
      outputDir: join(dirname(resolve(config.get('DATABASE_PATH'))), 'migration-output'),
    },
  });
}

/**
 * The placeholders the configured command templates fill from the inventory; empty with the
 * simulated driver. Host and VM writes that could not fill them are refused when written.
 */
export function commandPlaceholders(config: AppConfig): ReadonlySet<ArgvPlaceholder> {
  if (config.get('MIGRATION_DRIVER') !== 'command') return new Set();
  return usedPlaceholders(config.get('MIGRATION_COMMAND') ?? undefined, config.get('MIGRATION_RECONCILE_COMMAND') ?? undefined);
}
