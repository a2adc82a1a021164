import { Global, Module } from '@nestjs/common';
import { DatabaseSettings } from '../database/database.settings';
import { SecretsSettings } from './secrets.settings';
import { loadServiceKey, ServiceKey } from './service-key';

/** The service key, loaded (or created) once at start; inject ServiceKey and derive a key for your purpose. */
@Global()
@Module({
  providers: [
    {
      provide: ServiceKey,
      inject: [SecretsSettings, DatabaseSettings],
      useFactory: (secrets: SecretsSettings, database: DatabaseSettings) =>
        loadServiceKey({ ...secrets, DATABASE_PATH: database.DATABASE_PATH }),
    },
  ],
  exports: [ServiceKey],
})
export class SecretsModule {}
