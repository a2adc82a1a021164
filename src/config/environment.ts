// Typed, validated configuration read once at boot. Nothing else reads process.env.
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsNumber, IsString, Max, Min, validateSync } from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;

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
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return env;
}
