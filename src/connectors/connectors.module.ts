import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { LiveMigrationModule } from '../live-migration/live-migration.module';
import { PassesModule } from '../passes/passes.module';
import { RulesModule } from '../rules/rules.module';
import { SamplesModule } from '../samples/samples.module';
import { KEY_PURPOSES, ServiceKey } from '../secrets/service-key';
import { ConnectorLoops } from './connector-loops';
import { ConnectorsGuards } from './connectors-guards';
import { ConnectorsController } from './connectors.controller';
import { ConnectorStore } from './connectors.repository';
import { ConnectorsService } from './connectors.service';
import { CredentialCipher } from './credentials';

/** Top layer: reads each configured cluster's platform into the inventory and samples, and moves its VMs. No module imports it. */
@Module({
  imports: [InventoryModule, LiveMigrationModule, SamplesModule, PassesModule, RulesModule],
  controllers: [ConnectorsController],
  providers: [
    ConnectorStore,
    ConnectorLoops,
    ConnectorsService,
    ConnectorsGuards,
    {
      provide: CredentialCipher,
      inject: [ServiceKey],
      useFactory: (key: ServiceKey) => new CredentialCipher(key.derive(KEY_PURPOSES.connectorCredentials)),
    },
  ],
})
export class ConnectorsModule {}
