/** The part of a sqlite3 Database and Statement used here (the module ships its own types, but TypeORM hides which object it holds). */
export interface SqliteConnection {
  prepare(sql: string, callback?: (err: Error | null) => void): SqliteStatement;
}
export interface SqliteStatement {
  all(params: unknown[], callback: (err: Error | null, rows: unknown[]) => void): unknown;
  finalize(callback?: (err: Error | null) => void): unknown;
}

/**
 * Prepared statements kept per connection for the hottest reads. A plain sqlite3 `all(sql)` prepares,
 * runs and finalizes: three trips through the thread pool and a compile each time. A kept statement
 * makes one trip. Statements are run with `all` only: it steps to the end, so no statement is left
 * active and the connection never keeps an old read snapshot between calls. Calls on one statement
 * queue behind each other inside sqlite3.
 */
export class StatementCache {
  /** Each statement with the outcome of its preparation (sqlite3 never answers calls on a statement that failed to prepare). */
  private readonly statements = new Map<string, { statement: SqliteStatement; prepared: Promise<void> }>();
  private closed = false;

  constructor(
    private readonly connection: SqliteConnection,
    private readonly maxStatements = 64,
  ) {}

  async all<R>(sql: string, params: unknown[]): Promise<R[]> {
    if (this.closed) throw new Error('The database connection is closing');
    const entry = this.entry(sql);
    await entry.prepared;
    return new Promise<R[]>((resolve, reject) => {
      entry.statement.all(params, (err, rows) => (err ? reject(err) : resolve(rows as R[])));
    });
  }

  private entry(sql: string) {
    const entry = this.statements.get(sql);
    if (entry) {
      // Most recently used last, so that the first entry is the one to drop.
      this.statements.delete(sql);
      this.statements.set(sql, entry);
      return entry;
    }
    let statement!: SqliteStatement;
    const prepared = new Promise<void>((resolve, reject) => {
      statement = this.connection.prepare(sql, (err) => (err ? reject(err) : resolve()));
    });
    const created = { statement, prepared };
    prepared.catch(() => {
      if (this.statements.get(sql) === created) this.statements.delete(sql);
    });
    this.statements.set(sql, created);
    if (this.statements.size > this.maxStatements) {
      const [oldest, dropped] = this.statements.entries().next().value!;
      this.statements.delete(oldest);
      // sqlite3 runs the finalize after the calls already made on the statement.
      dropped.statement.finalize();
    }
    return created;
  }

  get size(): number {
    return this.statements.size;
  }

  /** Finalizes every kept statement (sqlite3 refuses to close a connection that still has some). */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.statements.values()];
    this.statements.clear();
    await Promise.all(entries.map(({ statement }) => new Promise<void>((resolve) => statement.finalize(() => resolve()))));
  }
}
