import { IsInt, IsNotEmpty, IsString, Max, Min } from 'class-validator';
import { ParseInt } from '../config/transforms';

/** The SQLite file, for the app and the CLIs alike. */
export class DatabaseSettings {
  @IsString()
  @IsNotEmpty()
  DATABASE_PATH = './data/drs.sqlite';

  /** Milliseconds a statement waits on a lock held by another connection (the CLI, a reader). */
  @ParseInt()
  @IsInt()
  @Min(0)
  @Max(600_000)
  DATABASE_BUSY_TIMEOUT_MS = 5000;
}
