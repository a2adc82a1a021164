import { Global, Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { Database, READERS } from './database.service';
import { DatabaseSettings } from './database.settings';

function settings(database: DatabaseSettings) {
  return { path: database.DATABASE_PATH, busyTimeoutMs: database.DATABASE_BUSY_TIMEOUT_MS };
}

@Global()
@Module({
  imports: [
    // The writer applies pending migrations before the app serves anything.
    TypeOrmModule.forRootAsync({
      inject: [DatabaseSettings],
      useFactory: (database: DatabaseSettings) => ({ ...dataSourceOptions(settings(database)), migrationsRun: true }),
    }),
    ...READERS.map((name) =>
      TypeOrmModule.forRootAsync({
        name,
        // Depending on the writer makes the readers open only after the migrations have run.
        inject: [DatabaseSettings, getDataSourceToken()],
        useFactory: (database: DatabaseSettings) => ({ ...dataSourceOptions(settings(database), name), migrations: [] }),
      }),
    ),
  ],
  providers: [
    {
      provide: Database,
      inject: [getDataSourceToken(), ...READERS.map((name) => getDataSourceToken(name))],
      useFactory: (writer: DataSource, ...readers: DataSource[]) => new Database(writer, readers),
    },
  ],
  exports: [Database],
})
export class DatabaseModule {}
