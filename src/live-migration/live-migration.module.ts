import { Module } from '@nestjs/common';
import { BalancerModule } from '../balancer/balancer.module';
import { DatabaseSettings } from '../database/database.settings';
import { LiveMigrationService } from './live-migration.service';
import { LiveMigrationSettings } from './live-migration.settings';
import { LiveMigrationsController } from './live-migrations.controller';
import { MigrationDispatcher } from './migration-dispatcher';
import { MigrationQueue, MigrationQueueRepository } from './migration-queue.repository';
import { MigrationRecovery } from './migration-recovery';
import { driverFromConfig, engineSettings, MIGRATION_DRIVER, MIGRATION_SETTINGS } from './migration-settings';
import { RunningMigrations } from './running-migrations';

@Module({
  imports: [BalancerModule],
  controllers: [LiveMigrationsController],
  providers: [
    { provide: MIGRATION_DRIVER, inject: [LiveMigrationSettings, DatabaseSettings], useFactory: driverFromConfig },
    { provide: MIGRATION_SETTINGS, inject: [LiveMigrationSettings], useFactory: engineSettings },
    { provide: MigrationQueue, useClass: MigrationQueueRepository },
    RunningMigrations,
    MigrationRecovery,
    MigrationDispatcher,
    LiveMigrationService,
  ],
  exports: [LiveMigrationService],
})
export class LiveMigrationModule {}
