// One definition of the database, shared by the app and the TypeORM CLI (npm run migration:*).
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { validateEnvironment } from '../config/environment';
import { ENTITIES } from './entities';

export interface DatabaseSettings {
  path: string;
  busyTimeoutMs: number;
}

export function dataSourceOptions(settings: DatabaseSettings, name?: string): DataSourceOptions {
  const database = resolve(settings.path);
  mkdirSync(dirname(database), { recursive: true });
  return {
    type: 'sqlite',
    name,
    database,
    enableWAL: true,
    busyTimeout: settings.busyTimeoutMs,
    entities: ENTITIES,
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
  };
}

/** Used by the TypeORM CLI only; the app builds its own from the validated configuration. */
const cliEnvironment = validateEnvironment(process.env);
export default new DataSource(
  dataSourceOptions({
    path: cliEnvironment.DATABASE_PATH,
    busyTimeoutMs: cliEnvironment.DATABASE_BUSY_TIMEOUT_MS,
  }),
);
