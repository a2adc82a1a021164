// The engine's configuration and its driver, made from the validated settings (live-migration.settings.ts).
import { dirname, join, resolve } from 'node:path';
import type { DatabaseSettings } from '../database/database.settings';
import { createMigrationDriver, type MigrationDriver } from './drivers';
import { usedPlaceholders, type ArgvPlaceholder } from './drivers/argv-template';
import type { LiveMigrationSettings } from './live-migration.settings';
import type { PoliciesSettings } from '../policies/policies.settings';

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

export function engineSettings(settings: LiveMigrationSettings, defaults: PoliciesSettings): MigrationEngineSettings {
  const simulated = settings.MIGRATION_DRIVER === 'simulated';
  const attemptLimitMs = simulated
    ? Math.max(MIN_ATTEMPT_LIMIT_MS, (settings.MIGRATION_TIME_LIMIT_SECONDS * 1000) / settings.MIGRATION_TIME_SCALE)
    : // The command driver enforces its own timeout; this only catches a driver that never returns.
      (settings.MIGRATION_COMMAND_TIMEOUT_SECONDS + COMMAND_KILL_GRACE_SECONDS + 5) * 1000;
  const scale = settings.MIGRATION_TIME_SCALE;
  const attemptLimitText = simulated
    ? `${settings.MIGRATION_TIME_LIMIT_SECONDS} simulated seconds (${attemptLimitMs / 1000} s of real time at time scale ${scale})`
    : `${attemptLimitMs / 1000} s`;
  return {
    attemptLimitText,
    maxPerHost: defaults.MIGRATION_MAX_PER_HOST,
    maxPerCluster: defaults.MIGRATION_MAX_PER_CLUSTER,
    maxAttempts: settings.MIGRATION_MAX_ATTEMPTS,
    retryBackoffSeconds: settings.MIGRATION_RETRY_BACKOFF_SECONDS,
    attemptLimitMs,
    progressWriteIntervalMs: 500,
    pollIntervalMs: 5000,
    killSignal: settings.MIGRATION_KILL_SIGNAL,
  };
}

export function driverFromConfig(settings: LiveMigrationSettings, database: DatabaseSettings): MigrationDriver {
  return createMigrationDriver({
    driver: settings.MIGRATION_DRIVER,
    timeScale: settings.MIGRATION_TIME_SCALE,
    stunBudgetMs: settings.MIGRATION_STUN_BUDGET_MS,
    timeLimitSeconds: settings.MIGRATION_TIME_LIMIT_SECONDS,
    failureProbability: settings.MIGRATION_FAILURE_PROBABILITY,
    progressIntervalMs: 500,
    command: {
      migrate: settings.MIGRATION_COMMAND ?? undefined,
      reconcile: settings.MIGRATION_RECONCILE_COMMAND ?? undefined,
      timeoutSeconds: settings.MIGRATION_COMMAND_TIMEOUT_SECONDS,
      killGraceSeconds: COMMAND_KILL_GRACE_SECONDS,
      killSignal: settings.MIGRATION_KILL_SIGNAL,
      allowShell: settings.MIGRATION_COMMAND_ALLOW_SHELL,
      // Beside the database: commands write there while they run, whether or not the service does.
      outputDir: join(dirname(resolve(database.DATABASE_PATH)), 'migration-output'),
    },
  });
}

/**
 * The placeholders the configured command templates fill from the inventory; empty with the
 * simulated driver. Host and VM writes that could not fill them are refused when written.
 */
export function commandPlaceholders(settings: LiveMigrationSettings): ReadonlySet<ArgvPlaceholder> {
  if (settings.MIGRATION_DRIVER !== 'command') return new Set();
  return usedPlaceholders(settings.MIGRATION_COMMAND ?? undefined, settings.MIGRATION_RECONCILE_COMMAND ?? undefined);
}
