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
/** Loaded only when PostgreSQL is configured, and from this package rather than from TypeORM's. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadPg = (): unknown => require('pg');
const plainSqlite3 = { verbose: () => sqlite3 };

/** What DATABASE_PATH, DATABASE_BUSY_TIMEOUT_MS, DATABASE_URL and DATABASE_POOL_SIZE (database.settings.ts) give. */
export interface DataSourceSettings {
  path: string;
  busyTimeoutMs: number;
  /** PostgreSQL instead of the SQLite file. */
  url?: string | null;
  poolSize?: number;
}

/** The settings of a DatabaseSettings section, for dataSourceOptions. */
export function dataSourceSettings(database: {
  DATABASE_PATH: string;
  DATABASE_BUSY_TIMEOUT_MS: number;
  DATABASE_URL?: string | null;
  DATABASE_POOL_SIZE?: number;
}): DataSourceSettings {
  return {
    path: database.DATABASE_PATH,
    busyTimeoutMs: database.DATABASE_BUSY_TIMEOUT_MS,
    url: database.DATABASE_URL,
    poolSize: database.DATABASE_POOL_SIZE,
  };
}

const entities = [join(__dirname, '..', '**', '*.entity.{ts,js}')];
const MIGRATIONS = join(__dirname, '..', '..', 'migrations');

export function dataSourceOptions(settings: DataSourceSettings, name?: string): DataSourceOptions {
  if (settings.url) return postgresOptions(settings.url, settings, name);
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
    entities,
    migrations: [join(MIGRATIONS, '*.{ts,js}')],
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  };
}

function postgresOptions(url: string, settings: DataSourceSettings, name?: string): DataSourceOptions {
  return {
    type: 'postgres',
    driver: loadPg(),
    name,
    url,
    poolSize: settings.poolSize ?? 10,
    // Counts and the epoch-millisecond columns are bigint: numbers, as on SQLite (all of them stay far below 2^53).
    parseInt8: true,
    connectTimeoutMS: Math.max(1000, settings.busyTimeoutMs),
    // DATABASE_BUSY_TIMEOUT_MS as on SQLite: how long a statement waits for a lock another connection holds. And as long
    // at most a transaction may sit idle, which no transaction here does: one whose process was paused (SIGSTOP) or cut
    // off mid-way is ended by PostgreSQL, its locks released, instead of holding up the other replicas.
    extra: { lock_timeout: settings.busyTimeoutMs, idle_in_transaction_session_timeout: Math.max(1000, settings.busyTimeoutMs) },
    applicationName: 'drs-scheduler',
    // Nothing to install: ids are made with gen_random_uuid(), built in since PostgreSQL 13 (and the role may not create extensions).
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    entities,
    migrations: [join(MIGRATIONS, 'postgres', '*.{ts,js}')],
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  };
}
