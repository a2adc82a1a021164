import { IsInt, IsNotEmpty, IsString, Max, Min, ValidateIf } from 'class-validator';
import { ParseInt } from '../config/transforms';
import { Secret } from '../config/settings';
import { IsPostgresUrl } from './database-url';

/** The database, for the app and the CLIs alike: the SQLite file, or PostgreSQL when DATABASE_URL is set. */
export class DatabaseSettings {
  /** Also where the service key and the migration commands' output are kept (beside the file), on PostgreSQL too. */
  @IsString()
  @IsNotEmpty()
  DATABASE_PATH = './data/drs.sqlite';

  /** Milliseconds a statement waits on a lock held by another connection (the CLI, a reader). */
  @ParseInt()
  @IsInt()
  @Min(0)
  @Max(600_000)
  DATABASE_BUSY_TIMEOUT_MS = 5000;

  /** postgres://user:password@host:port/database: PostgreSQL instead of the SQLite file. Its password is never shown. */
  @Secret()
  @ValidateIf((_, value) => value !== null)
  @IsPostgresUrl()
  DATABASE_URL: string | null = null;

  /** Connections to PostgreSQL this process keeps at most. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(1000)
  DATABASE_POOL_SIZE = 10;
}
