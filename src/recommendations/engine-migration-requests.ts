import { Injectable } from '@nestjs/common';
import { LiveMigrationService } from '../live-migration/live-migration.service';
import { MigrationRequests, MoveRequest } from './migration-requests';

/** Recommendations become migrations through the engine's queue. */
@Injectable()
export class EngineMigrationRequests extends MigrationRequests {
  constructor(private readonly engine: LiveMigrationService) {
    super();
  }

  async request(move: MoveRequest): Promise<string> {
    const migration = await this.engine.enqueue(move);
    return migration.id;
  }
}
