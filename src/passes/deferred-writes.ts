// Pass records the database could not take when they were made (it was locked or out of space): kept in memory
// and written later, oldest first, by whichever comes next (a scheduler tick or the next pass).
import type { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import { isDatabaseUnavailable } from '../database/database-errors';
import type { Database } from '../database/database.service';

export class DeferredWrites {
  private readonly queue: { clusterId: string; write: (m: EntityManager) => Promise<unknown> }[] = [];
  private draining?: Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  push(clusterId: string, write: (m: EntityManager) => Promise<unknown>): void {
    this.queue.push({ clusterId, write });
  }

  /**
   * Writes them in order, stopping at the first the database still refuses. One drain at a time: a tick and a
   * pass flushing together would otherwise both write the same record.
   */
  flush(): Promise<void> {
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      try {
        await this.db.transaction(next.write, { affects: [] });
      } catch (err) {
        if (isDatabaseUnavailable(err)) return;
        // Fenced: another replica owns the cluster now, and its passes are the ones recorded.
        if (err instanceof DomainError && err.code === ErrorCode.Unavailable) this.logger.warn({ clusterId: next.clusterId }, err.message);
        else this.logger.error({ err, clusterId: next.clusterId }, 'a deferred pass record could not be written');
      }
      this.queue.shift();
    }
  }
}
