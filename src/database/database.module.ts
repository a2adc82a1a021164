import { Global, Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { dataSourceOptions, dataSourceSettings } from './data-source-options';
import { Database, READERS } from './database.service';
import { DatabaseSettings } from './database.settings';
import { migrate } from './migrate';

@Global()
@Module({
  imports: [
    // The writer applies pending migrations before the app serves anything.
    TypeOrmModule.forRootAsync({
      inject: [DatabaseSettings],
      useFactory: (database: DatabaseSettings) => dataSourceOptions(dataSourceSettings(database)),
      dataSourceFactory: async (options?: DataSourceOptions) => {
        const source = await new DataSource(options!).initialize();
        try {
          await migrate(source);
        } catch (err) {
          await source.destroy();
          throw err;
        }
        return source;
      },
    }),
    ...READERS.map((name) =>
      TypeOrmModule.forRootAsync({
        name,
        // Depending on the writer makes the readers open only after the migrations have run.
        inject: [DatabaseSettings, getDataSourceToken()],
        // On PostgreSQL the writer's pool serves the reads: these are never opened.
        useFactory: (database: DatabaseSettings) => ({
          ...dataSourceOptions(dataSourceSettings(database), name),
          migrations: [],
          manualInitialization: database.DATABASE_URL !== null,
        }),
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
