import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { AppConfig } from '../config/app-config';
import { LiveMigrationService } from './live-migration.service';
import { LiveMigrationsController } from './live-migrations.controller';
import { MigrationDispatcher } from './migration-dispatcher';
import { driverFromConfig, MIGRATION_DRIVER } from './migration-settings';

@Module({
  imports: [BalancerModule],
  controllers: [LiveMigrationsController],
  providers: [
    { provide: MIGRATION_DRIVER, inject: [AppConfig], useFactory: driverFromConfig },
    MigrationDispatcher,
    LiveMigrationService,
  ],
  exports: [LiveMigrationService],
})
export class LiveMigrationModule {}
