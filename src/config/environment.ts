// Typed, validated configuration read once at boot. Nothing else reads process.env.
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsNumber, IsString, Matches, Max, Min, registerDecorator, ValidateIf, validateSync } from 'class-validator';
import { validateArgvTemplate } from '../live-migration/drivers/argv-template';
import { shellOf } from '../live-migration/drivers/placeholder-grammar';
import { MIGRATION_DRIVER_NAMES, type MigrationDriverName } from '../live-migration/drivers/create-migration-driver';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBoolean = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^(true|false|1|0|yes|no)$/i.test(value.trim()) ? /^(true|1|yes)$/i.test(value.trim()) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
/** A JSON text becomes its value; anything unparsable stays a string, which the validator then names. */
const fromJson = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

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

export class Environment {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';

  @IsString()
  @IsNotEmpty()
  DATABASE_PATH = './data/drs.sqlite';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Requests one client (IP address) may make per RATE_LIMIT_WINDOW_SECONDS; more get a 429. 0 turns the limit off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  RATE_LIMIT_MAX = 3000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  RATE_LIMIT_WINDOW_SECONDS = 60;

  // --- Request intake (Hardening II): which Host headers are served ---

  /**
   * Host names (comma-separated, e.g. `drs.example.org,10.0.0.5`) the `Host` header must carry once API
   * tokens exist; empty serves any. Without tokens only localhost, 127.0.0.1 and [::1] are served.
   */
  @IsString()
  @Matches(/^[A-Za-z0-9.:\[\],\s-]*$/, { message: 'ALLOWED_HOSTS must be host names or IP addresses, comma-separated' })
  ALLOWED_HOSTS = '';

  /** Origins (comma-separated) whose browser pages may call the API; empty keeps CORS closed. */
  @IsString()
  CORS_ORIGINS = '';

  /** A request that takes longer than this (receiving it or answering it) gets a 503. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  REQUEST_TIMEOUT_SECONDS = 60;

  /** Milliseconds a statement waits on a lock held by another connection (the CLI, a reader). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  DATABASE_BUSY_TIMEOUT_MS = 5000;

  /** Raw utilization samples are kept this long, then rolled up into 5-minute averages. */
  @Transform(toInt)
  @IsInt()
  @Min(300)
  @Max(30 * 86400)
  SAMPLE_RAW_RETENTION_SECONDS = 3600;

  /** 5-minute roll-ups are kept this long. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  SAMPLE_ROLLUP_RETENTION_DAYS = 7;

  /** Samples stamped further than this in the future are refused (clocks drift; the future does not report). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  SAMPLE_MAX_CLOCK_SKEW_SECONDS = 300;

  /** How often the background roll-up and pruning runs. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  SAMPLE_RETENTION_INTERVAL_SECONDS = 60;

  /** Share of memory consumed but not active that counts as demand (DRS's idle tax). */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  MEMORY_IDLE_TAX = 0.25;

  /** EWMA smoothing factor for the `ewma` demand statistic: weight of the newest sample. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.01)
  @Max(1)
  DEMAND_EWMA_ALPHA = 0.3;

  /** Events (the audit trail) older than this are deleted. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  EVENT_RETENTION_DAYS = 30;

  /** Run balancing passes on each cluster's interval (passes on demand and evacuations run regardless). */
  @Transform(toBoolean)
  @IsBoolean()
  SCHEDULER_ENABLED = true;

  /** How often the scheduler looks for passes that are due and hosts done entering maintenance. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  SCHEDULER_TICK_MS = 1000;

  /** On an empty database, seed and drive a demo cluster on a real trace. Turn off for production. */
  @Transform(toBoolean)
  @IsBoolean()
  DEMO_ENABLED = true;

  /** Real seconds in which the demo plays one trace day. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86400)
  DEMO_DAY_SECONDS = 1200;

  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(100)
  DEMO_HOSTS = 8;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1052)
  DEMO_VMS = 120;

  /** How often the demo posts a round of samples. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  DEMO_SAMPLE_INTERVAL_MS = 2000;

  /**
   * What carries out live migrations: `simulated` plays vMotion pre-copy and moves nothing real;
   * `command` runs MIGRATION_COMMAND. Chosen here only, never by an API request.
   */
  @IsIn(MIGRATION_DRIVER_NAMES)
  MIGRATION_DRIVER: MigrationDriverName = 'simulated';

  /** Simulated seconds per real second for the simulated driver: 1000 plays a 10 s migration in 10 ms. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.001)
  @Max(1_000_000)
  MIGRATION_TIME_SCALE = 1;

  /** Migrations running at once that involve one host, as source or target (vMotion on 1 GbE allows 4). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(128)
  MIGRATION_MAX_PER_HOST = 4;

  /** Migrations running at once in one cluster; the rest wait in the queue. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  MIGRATION_MAX_PER_CLUSTER = 16;

  /** Attempts per migration when a driver reports a failure as transient (1 = never retry). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  MIGRATION_MAX_ATTEMPTS = 3;

  /** Wait before the first retry; it doubles with each further attempt (capped at one hour). */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(86_400)
  MIGRATION_RETRY_BACKOFF_SECONDS = 30;

  /** Longest acceptable switch-over stun of the simulated driver: pre-copy goes on until the rest fits. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60_000)
  MIGRATION_STUN_BUDGET_MS = 500;

  /**
   * Simulated seconds a simulated migration attempt may take before it fails as timed out (real time:
   * this ÷ MIGRATION_TIME_SCALE, at least 1 s). The command driver uses MIGRATION_COMMAND_TIMEOUT_SECONDS.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7 * 86_400)
  MIGRATION_TIME_LIMIT_SECONDS = 600;

  /** Chance (0–1) that a simulated migration fails transiently halfway through its first round: for demos and tests. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  MIGRATION_FAILURE_PROBABILITY = 0;

  /**
   * The command driver's argv template, a JSON array run without a shell, e.g.
   * ["virsh","migrate","--live","{vm}","qemu+ssh://{targetHost}/system"]. Placeholders: {vm} {vmId}
   * {sourceHost} {sourceHostId} {targetHost} {targetHostId} {migrationId}. Required with MIGRATION_DRIVER=command.
   */
  @Transform(fromJson)
  @ValidateIf((env: Environment) => env.MIGRATION_DRIVER === 'command' || env.MIGRATION_COMMAND !== null)
  @IsArgvTemplate()
  MIGRATION_COMMAND: string[] | null = null;

  /**
   * Optional argv template (JSON array) printing, as its last line, the host a VM runs on: used at start
   * to settle migrations a crash left running. Without it those migrations fail as "unknown".
   */
  @Transform(fromJson)
  @ValidateIf((env: Environment) => env.MIGRATION_RECONCILE_COMMAND !== null)
  @IsArgvTemplate()
  MIGRATION_RECONCILE_COMMAND: string[] | null = null;

  /** The migration command is stopped (SIGTERM, then SIGKILL) and the attempt fails transiently after this long. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7 * 86_400)
  MIGRATION_COMMAND_TIMEOUT_SECONDS = 3600;

  // Service key (src/secrets): API token hashes, and whatever else needs a server-side secret.

  /** The service key, base64 of 32 random bytes (`openssl rand -base64 32`). Empty: the key is kept in SERVICE_KEY_FILE. */
  @IsString()
  @ValidateIf((env: Environment) => env.SERVICE_KEY !== '')
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'SERVICE_KEY must be the base64 of 32 random bytes, as `openssl rand -base64 32` prints' })
  SERVICE_KEY = '';

  /** The file holding the service key (32 bytes, mode 0600), created on first start. Empty: `service.key` in the folder of DATABASE_PATH. */
  @IsString()
  SERVICE_KEY_FILE = '';

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
  @Transform(toBoolean)
  @IsBoolean()
  @NoShellTemplates()
  MIGRATION_COMMAND_ALLOW_SHELL = false;

  // Planner queue (issue 13, item 7): what-ifs wait in a bounded queue behind evacuations and passes.

  /** Seconds a what-if plan (POST /clusters/{id}/plan, a maintenance status) may take; over it, it is stopped and answered 503. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.001)
  @Max(3600)
  PLAN_WHATIF_TIMEOUT_SECONDS = 5;

  /** Seconds a pass's or an evacuation's plan may take before it is stopped and the pass fails. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.001)
  @Max(86_400)
  PLAN_PASS_TIMEOUT_SECONDS = 120;

  /** What-if plans and placements that may wait for the planner; more are answered 503 with Retry-After. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000)
  PLAN_WHATIF_QUEUE_MAX = 32;
}

/** Variables whose value an error message must not repeat. */
const SECRET_VARIABLES = new Set(['SERVICE_KEY']);

/**
 * The demo seeds made-up hosts and VMs and automates them fully: with a driver that moves real VMs it
 * would run real migration commands against names nobody chose, so the two never start together.
 */
function demoProblem(env: Environment): string | undefined {
  if (!env.DEMO_ENABLED || env.MIGRATION_DRIVER === 'simulated') return undefined;
  return (
    `DEMO_ENABLED=true: the demo seeds made-up hosts and VMs and migrates them, so it runs only with MIGRATION_DRIVER=simulated; ` +
    `set DEMO_ENABLED=false to use MIGRATION_DRIVER=${env.MIGRATION_DRIVER}`
  );
}

/** Validates the raw environment and returns it typed, or throws one error listing every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const known = Object.keys(new Environment());
  const picked: Record<string, unknown> = {};
  for (const key of known) {
    if (raw[key] !== undefined && raw[key] !== '') picked[key] = raw[key];
  }
  const env = plainToInstance(Environment, picked, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  const lines = errors.map(
    (e) => `${e.property}=${SECRET_VARIABLES.has(e.property) ? '(hidden)' : JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
  );
  const demo = demoProblem(env);
  if (demo) lines.push(demo);
  if (lines.length > 0) throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  return env;
}

// Declared below the class (functions hoist) so that the command driver's settings stay in one block.
/** On MIGRATION_COMMAND_ALLOW_SHELL: the command templates run no shell, unless it is true. */
function NoShellTemplates(): PropertyDecorator {
  const shells = (env: Environment) =>
    (['MIGRATION_COMMAND', 'MIGRATION_RECONCILE_COMMAND'] as const).flatMap((key) => {
      const template = env[key];
      const shell = Array.isArray(template) && template.every((part) => typeof part === 'string') ? shellOf(template) : null;
      return shell ? [`${key} runs the shell "${shell}"`] : [];
    });
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'noShellTemplates',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args) => value === true || shells(args!.object as Environment).length === 0,
        defaultMessage: (args) =>
          `${shells(args!.object as Environment).join('; ')}: a shell would run VM and host names as code. Run the tool directly, ` +
          `e.g. ${ARGV_EXAMPLE}, or set MIGRATION_COMMAND_ALLOW_SHELL=true if the script quotes every placeholder itself`,
      },
    });
}
