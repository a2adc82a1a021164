// The migration engine's and its drivers' environment variables; migration-settings.ts derives what
// the engine and the driver are built with.
import { IsBoolean, IsIn, IsInt, IsNumber, Max, Min, registerDecorator, ValidateIf } from 'class-validator';
import { ParseBoolean, ParseInt, ParseJson, ParseNumber } from '../config/transforms';
import { validateArgvTemplate } from './drivers/argv-template';
import { MIGRATION_DRIVER_NAMES, type MigrationDriverName } from './drivers/create-migration-driver';
import { shellOf } from './drivers/placeholder-grammar';

const ARGV_EXAMPLE = '["virsh","migrate","--live","{vm}","qemu+ssh://{targetHost}/system"]';

/** An argv template: a JSON array of strings with known placeholders (see live-migration/drivers). */
function IsArgvTemplate(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isArgvTemplate',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => {
          try {
            validateArgvTemplate(value as string[]);
            return true;
          } catch {
            return false;
          }
        },
        defaultMessage: (args) => {
          if (args?.value === null || args?.value === undefined) {
            return `${args?.property} is required when MIGRATION_DRIVER=command: a JSON array argv template such as ${ARGV_EXAMPLE}`;
          }
          try {
            validateArgvTemplate(args?.value as string[], String(args?.property));
            return `${args?.property} is invalid`;
          } catch (error) {
            return `${(error as Error).message}; expected a JSON array argv template such as ${ARGV_EXAMPLE}`;
          }
        },
      },
    });
}

/** On MIGRATION_COMMAND_ALLOW_SHELL: the command templates run no shell, unless it is true. */
function NoShellTemplates(): PropertyDecorator {
  const shells = (settings: LiveMigrationSettings) =>
    (['MIGRATION_COMMAND', 'MIGRATION_RECONCILE_COMMAND'] as const).flatMap((key) => {
      const template = settings[key];
      const shell = Array.isArray(template) && template.every((part) => typeof part === 'string') ? shellOf(template) : null;
      return shell ? [`${key} runs the shell "${shell}"`] : [];
    });
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'noShellTemplates',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args) => value === true || shells(args!.object as LiveMigrationSettings).length === 0,
        defaultMessage: (args) =>
          `${shells(args!.object as LiveMigrationSettings).join('; ')}: a shell would run VM and host names as code. Run the tool directly, ` +
          `e.g. ${ARGV_EXAMPLE}, or set MIGRATION_COMMAND_ALLOW_SHELL=true if the script quotes every placeholder itself`,
      },
    });
}

export class LiveMigrationSettings {
  /**
   * What carries out live migrations: `simulated` plays vMotion pre-copy and moves nothing real;
   * `command` runs MIGRATION_COMMAND. Chosen here only, never by an API request.
   */
  @IsIn(MIGRATION_DRIVER_NAMES)
  MIGRATION_DRIVER: MigrationDriverName = 'simulated';

  /** Simulated seconds per real second for the simulated driver: 1000 plays a 10 s migration in 10 ms. */
  @ParseNumber()
  @IsNumber()
  @Min(0.001)
  @Max(1_000_000)
  MIGRATION_TIME_SCALE = 1;

  /** Attempts per migration when a driver reports a failure as transient (1 = never retry). */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(100)
  MIGRATION_MAX_ATTEMPTS = 3;

  /** Wait before the first retry; it doubles with each further attempt (capped at one hour). */
  @ParseNumber()
  @IsNumber()
  @Min(0)
  @Max(86_400)
  MIGRATION_RETRY_BACKOFF_SECONDS = 30;

  /** Longest acceptable switch-over stun of the simulated driver: pre-copy goes on until the rest fits. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(60_000)
  MIGRATION_STUN_BUDGET_MS = 500;

  /**
   * Simulated seconds a simulated migration attempt may take before it fails as timed out (real time:
   * this ÷ MIGRATION_TIME_SCALE, at least 1 s). The command driver uses MIGRATION_COMMAND_TIMEOUT_SECONDS.
   */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(7 * 86_400)
  MIGRATION_TIME_LIMIT_SECONDS = 600;

  /** Chance (0–1) that a simulated migration fails transiently halfway through its first round: for demos and tests. */
  @ParseNumber()
  @IsNumber()
  @Min(0)
  @Max(1)
  MIGRATION_FAILURE_PROBABILITY = 0;

  /**
   * The command driver's argv template, a JSON array run without a shell, e.g.
   * ["virsh","migrate","--live","{vm}","qemu+ssh://{targetHost}/system"]. Placeholders: {vm} {vmId}
   * {sourceHost} {sourceHostId} {targetHost} {targetHostId} {migrationId}. Required with MIGRATION_DRIVER=command.
   */
  @ParseJson()
  @ValidateIf((settings: LiveMigrationSettings) => settings.MIGRATION_DRIVER === 'command' || settings.MIGRATION_COMMAND !== null)
  @IsArgvTemplate()
  MIGRATION_COMMAND: string[] | null = null;

  /**
   * Optional argv template (JSON array) printing, as its last line, the host a VM runs on: used at start
   * to settle migrations a crash left running. Without it those migrations fail as "unknown".
   */
  @ParseJson()
  @ValidateIf((settings: LiveMigrationSettings) => settings.MIGRATION_RECONCILE_COMMAND !== null)
  @IsArgvTemplate()
  MIGRATION_RECONCILE_COMMAND: string[] | null = null;

  /** The migration command is stopped (SIGTERM, then SIGKILL) and the attempt fails transiently after this long. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(7 * 86_400)
  MIGRATION_COMMAND_TIMEOUT_SECONDS = 3600;

  // ---- command driver: crash-safe commands and safe placeholders (Hardening II) ----

  /**
   * Sent to a migration command's process group on cancel and timeout (SIGKILL follows after 10 s).
   * virsh aborts its migration job on SIGINT; on SIGTERM it may leave the job running.
   */
  @IsIn(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'])
  MIGRATION_KILL_SIGNAL: NodeJS.Signals = 'SIGTERM';

  /**
   * A MIGRATION_COMMAND or MIGRATION_RECONCILE_COMMAND whose program is a shell (sh, bash, … directly
   * or through env) would run VM and host names as code: it stops the boot unless this is true.
   */
  @ParseBoolean()
  @IsBoolean()
  @NoShellTemplates()
  MIGRATION_COMMAND_ALLOW_SHELL = false;
}
