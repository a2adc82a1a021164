import { Global, Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { Database, READERS } from './database.service';

function settings(config: AppConfig) {
  return { path: config.get('DATABASE_PATH'), busyTimeoutMs: config.get('DATABASE_BUSY_TIMEOUT_MS') };
}

@Global()
@Module({
  imports: [
    // The writer applies pending migrations before the app serves anything.
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(settings(config)), migrationsRun: true }),
    }),
    ...READERS.map((name) =>
      TypeOrmModule.forRootAsync({
        name,
        // Depending on the writer makes the readers open only after the migrations have run.
        inject: [AppConfig, getDataSourceToken()],
        useFactory: (config: AppConfig) => ({ ...dataSourceOptions(settings(config), name), migrations: [] }),
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
