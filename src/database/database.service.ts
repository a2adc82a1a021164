import { setTimeout as delay } from 'node:timers/promises';
import { DataSource, EntityManager } from 'typeorm';
import { ChangeFeed } from './change-feed';
import { isRetryableConflict } from './database-errors';
import { Dialect, dialectOf, selectRows } from './dialect';
import { SqliteConnection, StatementCache } from './statement-cache';
import { WriteQueue } from './write-queue';

/**
 * The read connections' names. Each SQLite connection runs one statement at a time: with a single
 * one, every short list read waited behind whatever long read (a demand estimate over a cluster's
 * samples, a balancing snapshot) was in progress.
 */
export const READERS = ['reader', 'reader-2', 'reader-3'];

export interface WriteOptions {
  /**
   * The clusters whose balancing inputs (inventory, rules, policy, samples, migrations in flight)
   * this transaction may change; `[]` for none (events, pass records, migration progress). Left out:
   * it may change anything, and every cluster's cached figures are dropped.
   */
  affects?: Iterable<string>;
  /**
   * PostgreSQL only: run at once, beside this process's queue of writes rather than behind it (a lease renewal must
   * not wait for a burst of sample writes). For short transactions on tables no queued write touches.
   */
  unqueued?: boolean;
  /**
   * PostgreSQL only: READ COMMITTED instead of SERIALIZABLE, for work whose every statement is safe on its own
   * (conditional upserts, updates of rows this process owns) and that must not fail on conflicts with busy writers.
   */
  readCommitted?: boolean;
}

/** Times a PostgreSQL transaction is run when concurrent ones keep conflicting with it. */
const ATTEMPTS = 5;

/**
 * Access to the database. SQLite: writes run one transaction at a time on the writer connection (see
 * WriteQueue); reads go to the read connections, which in WAL mode see only committed data and are
 * never blocked by a write in progress. PostgreSQL: reads and writes share the writer's pool; this
 * process still writes one transaction at a time, and each is SERIALIZABLE, so that transactions of
 * other processes on the same database cannot interleave with it either (every write here was
 * written for SQLite's one writer at a time); one that conflicts is run again.
 */
export class Database {
  private readonly queue = new WriteQueue();
  /** Bumped after every write that may change any cluster; per cluster, after writes scoped to it. */
  private generation = 0;
  private readonly clusterGenerations = new Map<string, number>();

  private nextReader = 0;
  /** Per read connection, created on first use (the connection is open by then). */
  private readonly statementCaches: (StatementCache | undefined)[] = [];

  readonly dialect: Dialect;
  /** PostgreSQL: other replicas' writes move this process's change stamps too. */
  private readonly feed: ChangeFeed | undefined;

  constructor(
    private readonly writer: DataSource,
    private readonly readers: DataSource[],
  ) {
    this.dialect = dialectOf(writer);
    const url = (writer.options as { url?: string }).url;
    if (this.dialect === 'postgres' && url) {
      this.feed = new ChangeFeed(url, (clusters) => this.changed(clusters ?? undefined));
      this.feed.start();
    }
  }

  /** Committed data only; the read connections take turns (PostgreSQL: the pool's connections). */
  get reader(): EntityManager {
    if (this.dialect === 'postgres') return this.writer.manager;
    return this.readers[this.takeReaderTurn()].manager;
  }

  private takeReaderTurn(): number {
    const i = this.nextReader;
    this.nextReader = (i + 1) % this.readers.length;
    return i;
  }

  /**
   * Committed data only, through statements kept prepared on the read connections (see
   * StatementCache): for the most frequent reads, whose SQL comes from code and repeats.
   */
  readRows<R>(sql: string, params: unknown[]): Promise<R[]> {
    if (this.dialect === 'postgres') return selectRows<R>(this.writer.manager, sql, params);
    const i = this.takeReaderTurn();
    let cache = this.statementCaches[i];
    if (!cache) {
      // TypeORM's sqlite driver keeps the sqlite3 Database it opened here.
      const connection = (this.readers[i].driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
      cache = this.statementCaches[i] = new StatementCache(connection);
    }
    return cache.all<R>(sql, params);
  }

  /** Before the connections close: sqlite3 will not close one that still has prepared statements. */
  async onModuleDestroy(): Promise<void> {
    await this.feed?.close();
    await Promise.all(this.statementCaches.filter((cache) => cache !== undefined).map((cache) => cache.close()));
  }

  /**
   * Runs `work` in a write transaction once every earlier one has finished. Keep it short: no slow
   * awaits inside. On PostgreSQL `work` may run more than once: it is to change nothing but the database.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    if (options.unqueued && this.dialect === 'postgres') return this.serializable(work, options);
    return this.queue.run(async () => {
      try {
        if (this.dialect === 'sqlite') return await this.writer.transaction(work);
        return await this.serializable(work, options);
      } finally {
        // Before the caller hears of the commit: whoever reads after a write never gets figures from before it.
        this.changed(options.affects);
      }
    });
  }

  /** PostgreSQL: a SERIALIZABLE transaction, run again when it conflicts with another; its changes announced to the other replicas. */
  private async serializable<T>(work: (manager: EntityManager) => Promise<T>, options: WriteOptions): Promise<T> {
    // After the work: some callers fill the set of clusters they affected as they go.
    const announced = async (m: EntityManager) => {
      const result = await work(m);
      const affects = options.affects === undefined ? null : [...options.affects];
      if (this.feed && (affects === null || affects.length > 0)) await this.feed.announce(m, affects);
      return result;
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writer.transaction(options.readCommitted ? 'READ COMMITTED' : 'SERIALIZABLE', announced);
      } catch (err) {
        if (attempt >= ATTEMPTS || !isRetryableConflict(err)) throw err;
        await delay(Math.random() * 20 * attempt);
      }
    }
  }

  /**
   * Changes whenever a committed write may have changed the cluster's balancing inputs: figures
   * computed from the database under one stamp are still current while the stamp stays the same
   * (on PostgreSQL, writes of other replicas move it too, through the change feed; on SQLite, writes of
   * another process to the file do not). Take it before reading.
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
