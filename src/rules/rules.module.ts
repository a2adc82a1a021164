import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { RulesInventoryGuard } from './rules-inventory-guard';
import { RulesController } from './rules.controller';
import { RulesService } from './rules.service';

@Module({
  imports: [InventoryModule],
  controllers: [RulesController],
  providers: [RulesService, RulesInventoryGuard],
  exports: [RulesService],
})
export class RulesModule {}
