import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { WriteQueue } from './write-queue';

export const READER = 'reader';

/**
 * Access to the SQLite file through two connections: writes run one transaction at a time on the
 * writer (see WriteQueue); reads go to a second connection, which in WAL mode sees only committed
 * data and is never blocked by a write in progress.
 */
@Injectable()
export class Database {
  private readonly queue = new WriteQueue();

  constructor(
    @InjectDataSource() private readonly writer: DataSource,
    @InjectDataSource(READER) private readonly readerSource: DataSource,
  ) {}

  /** Committed data only. */
  get reader(): EntityManager {
    return this.readerSource.manager;
  }

  /** Runs `work` in a write transaction once every earlier one has finished. Keep it short: no slow awaits inside. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.queue.run(() => this.writer.transaction(work));
  }

  get pendingWrites(): number {
    return this.queue.depth;
  }
}
