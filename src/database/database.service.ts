import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { WriteQueue } from './write-queue';

export const READER = 'reader';

export interface WriteOptions {
  /**
   * The clusters whose balancing inputs (inventory, rules, policy, samples, migrations in flight)
   * this transaction may change; `[]` for none (events, pass records, migration progress). Left out:
   * it may change anything, and every cluster's cached figures are dropped.
   */
  affects?: Iterable<string>;
}

/**
 * Access to the SQLite file through two connections: writes run one transaction at a time on the
 * writer (see WriteQueue); reads go to a second connection, which in WAL mode sees only committed
 * data and is never blocked by a write in progress.
 */
@Injectable()
export class Database {
  private readonly queue = new WriteQueue();
  /** Bumped after every write that may change any cluster; per cluster, after writes scoped to it. */
  private generation = 0;
  private readonly clusterGenerations = new Map<string, number>();

  constructor(
    @InjectDataSource() private readonly writer: DataSource,
    @InjectDataSource(READER) private readonly readerSource: DataSource,
  ) {}

  /** Committed data only. */
  get reader(): EntityManager {
    return this.readerSource.manager;
  }

  /** Runs `work` in a write transaction once every earlier one has finished. Keep it short: no slow awaits inside. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.queue.run(async () => {
      try {
        return await this.writer.transaction(work);
      } finally {
        // Before the caller hears of the commit: whoever reads after a write never gets figures from before it.
        this.changed(options.affects);
      }
    });
  }

  /**
   * Changes whenever a committed write may have changed the cluster's balancing inputs: figures
   * computed from the database under one stamp are still current while the stamp stays the same
   * (writes made by other processes excepted). Take it before reading.
   */
  changeStamp(clusterId: string): string {
    return `${this.generation}.${this.clusterGenerations.get(clusterId) ?? 0}`;
  }

  private changed(affects: Iterable<string> | undefined): void {
    if (affects === undefined) {
      this.generation++;
      return;
    }
    for (const id of affects) this.clusterGenerations.set(id, (this.clusterGenerations.get(id) ?? 0) + 1);
  }

  get pendingWrites(): number {
    return this.queue.depth;
  }
}
