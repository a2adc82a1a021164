import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { FieldProblem } from '../common/domain-error';
import { InventoryGuard, InventoryGuards } from '../inventory/inventory-ports';
import { CommandPlaceholderCheck } from './command-placeholders';
import { LiveMigrationSettings } from './live-migration.settings';
import { countActiveOnHost } from './migrations.repository';

/**
 * What the migration engine asks of inventory: with the command driver, names and addresses its
 * templates can carry (refused when written, not when a migration finally runs, which checks
 * again); and no host deleted while a migration to or from it is queued or running.
 */
@Injectable()
export class MigrationInventoryGuard implements InventoryGuard, OnModuleInit {
  private readonly placeholders: CommandPlaceholderCheck;

  constructor(
    private readonly guards: InventoryGuards,
    settings: LiveMigrationSettings,
  ) {
    this.placeholders = CommandPlaceholderCheck.from(settings);
  }

  onModuleInit(): void {
    this.guards.register(this);
  }

  hostProblems(host: { name: string; address?: string | null }, prefix = ''): FieldProblem[] {
    return this.placeholders.hostProblems(host, prefix);
  }

  vmProblems(vm: { name: string }, prefix = ''): FieldProblem[] {
    return this.placeholders.vmProblems(vm, prefix);
  }

  async hostInUse(m: EntityManager, hostId: string): Promise<string | null> {
    const migrating = await countActiveOnHost(m, hostId);
    return migrating > 0 ? `Host ${hostId} has ${migrating} migration(s) queued or running; wait or cancel them first` : null;
  }
}
