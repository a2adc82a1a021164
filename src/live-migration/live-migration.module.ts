import { Module } from '@nestjs/common';
import { DatabaseSettings } from '../database/database.settings';
import { InventoryModule } from '../inventory/inventory.module';
import { PoliciesSettings } from '../policies/policies.settings';
import { ClusterDrivers } from './cluster-drivers';
import { LiveMigrationService } from './live-migration.service';
import { LiveMigrationSettings } from './live-migration.settings';
import { LiveMigrationsController } from './live-migrations.controller';
import { MigrationDispatcher } from './migration-dispatcher';
import { MigrationInventoryGuard } from './migration-inventory-guard';
import { MoveCheckPort } from './move-check-port';
import { MigrationQueue } from './migration-queue';
import { MigrationQueueRepository } from './migration-queue.repository';
import { MigrationRecovery } from './migration-recovery';
import { driverFromConfig, engineSettings, MIGRATION_DRIVER, MIGRATION_SETTINGS } from './migration-settings';
import { RunningMigrations } from './running-migrations';

@Module({
  imports: [InventoryModule],
  controllers: [LiveMigrationsController],
  providers: [
    { provide: MIGRATION_DRIVER, inject: [LiveMigrationSettings, DatabaseSettings], useFactory: driverFromConfig },
    { provide: MIGRATION_SETTINGS, inject: [LiveMigrationSettings, PoliciesSettings], useFactory: engineSettings },
    { provide: MigrationQueue, useClass: MigrationQueueRepository },
    ClusterDrivers,
    RunningMigrations,
    MigrationRecovery,
    MigrationDispatcher,
    LiveMigrationService,
    MigrationInventoryGuard,
    MoveCheckPort,
  ],
  exports: [LiveMigrationService, MoveCheckPort, ClusterDrivers],
})
export class LiveMigrationModule {}
