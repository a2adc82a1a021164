// One definition of the database, shared by the app, the TypeORM CLI (data-source.ts) and the token CLI.
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataSourceOptions } from 'typeorm';

/**
 * The sqlite3 module as TypeORM is to use it. TypeORM calls the driver's `verbose()`, which wraps every
 * sqlite3 call to capture a stack trace and util.inspect all its arguments (the SQL text and every
 * parameter, a whole sample batch included) for longer error stacks: a large share of the cost of a
 * small query. This driver hands TypeORM the plain module instead; errors keep their codes.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sqlite3: unknown = require('sqlite3');
const plainSqlite3 = { verbose: () => sqlite3 };

/** What DATABASE_PATH and DATABASE_BUSY_TIMEOUT_MS (database.settings.ts) give. */
export interface DataSourceSettings {
  path: string;
  busyTimeoutMs: number;
}

export function dataSourceOptions(settings: DataSourceSettings, name?: string): DataSourceOptions {
  const database = resolve(settings.path);
  mkdirSync(dirname(database), { recursive: true });
  return {
    type: 'sqlite',
    driver: plainSqlite3,
    name,
    database,
    enableWAL: true,
    busyTimeout: settings.busyTimeoutMs,
    // Each module keeps its entities beside its code; none is listed here, so this layer imports no feature.
    entities: [join(__dirname, '..', '**', '*.entity.{ts,js}')],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  };
}
