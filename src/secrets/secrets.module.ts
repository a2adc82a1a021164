import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { loadServiceKey, ServiceKey } from './service-key';

/** The service key, loaded (or created) once at start; inject ServiceKey and derive a key for your purpose. */
@Global()
@Module({
  providers: [
    {
      provide: ServiceKey,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        loadServiceKey({ SERVICE_KEY: config.get('SERVICE_KEY'), SERVICE_KEY_FILE: config.get('SERVICE_KEY_FILE'), DATABASE_PATH: config.get('DATABASE_PATH') }),
    },
  ],
  exports: [ServiceKey],
})
export class SecretsModule {}
