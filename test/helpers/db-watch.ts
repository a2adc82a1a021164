// A spec's own view of the app's database, to tell whether a request wrote anything: on SQLite a
// read-only connection to the file; on PostgreSQL (test-database.ts) a connection to the database,
// which counts the rows written with a trigger on every table.
import { Client } from 'pg';
import { Database as Sqlite, OPEN_READONLY } from 'sqlite3';
import { ensureDatabase, onPostgres } from './test-database';

export interface DbWatch {
  /** Changes whenever a write of another connection was committed. */
  version(): Promise<string>;
  /** Every row of every table (as JSON texts), and the schema. */
  contents(): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

const rowText = (row: Record<string, unknown>) =>
  JSON.stringify(row, (_k, v) =>
    v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer'
      ? `x'${Buffer.from((v as { data: number[] }).data).toString('hex')}'`
      : v,
  );

export function watchDatabase(path: string): Promise<DbWatch> {
  return onPostgres ? watchPostgres(path) : watchSqlite(path);
}

async function watchSqlite(path: string): Promise<DbWatch> {
  const db = await new Promise<Sqlite>((resolve, reject) => {
    const opened = new Sqlite(path, OPEN_READONLY, (err) => (err ? reject(err) : resolve(opened)));
  });
  const all = (sql: string) =>
    new Promise<Record<string, unknown>[]>((resolve, reject) =>
      db.all(sql, (err, rows) => (err ? reject(err) : resolve(rows as Record<string, unknown>[]))),
    );
  return {
    version: async () => String((await all('PRAGMA data_version'))[0].data_version),
    /** In rowid order (sorted, for WITHOUT ROWID tables). */
    async contents() {
      const out = new Map<string, string[]>();
      out.set('(schema)', (await all('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name')).map(rowText));
      const tables = await all(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\' ORDER BY name",
      );
      for (const { name, sql } of tables as { name: string; sql: string | null }[]) {
        const withoutRowid = /WITHOUT\s+ROWID/i.test(sql ?? '');
        const quoted = `"${name.replace(/"/g, '""')}"`;
        const rows = (
          await all(withoutRowid ? `SELECT * FROM ${quoted}` : `SELECT rowid AS "(rowid)", * FROM ${quoted} ORDER BY rowid`)
        ).map(rowText);
        out.set(name, withoutRowid ? rows.sort() : rows);
      }
      return out;
    },
    close: () => new Promise<void>((resolve) => db.close(() => resolve())),
  };
}

/** The table the triggers count writes in; left out of the contents. */
const COUNTER = 'spec_writes';
/**
 * Written every few seconds by the replica's lease renewal and heartbeat (see Scale out), whatever the requests do:
 * no request's write. Left out, as SQLite leaves them empty (one process owns every cluster there).
 */
const BACKGROUND = ['replicas', 'cluster_leases'];

async function watchPostgres(path: string): Promise<DbWatch> {
  const client = new Client({ connectionString: await ensureDatabase(path) });
  await client.connect();
  const tableNames = async () =>
    (
      await client.query<{ name: string }>(
        // Day partitions of samples and sample_rollups are seen (and counted) through their table.
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> $1
            AND table_name <> ALL($2) AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition) ORDER BY table_name`,
        [COUNTER, BACKGROUND],
      )
    ).rows.map((r) => r.name);
  await client.query(`CREATE TABLE IF NOT EXISTS ${COUNTER} (n bigint NOT NULL)`);
  await client.query(`INSERT INTO ${COUNTER} (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ${COUNTER})`);
  await client.query(`CREATE OR REPLACE FUNCTION spec_count_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE ${COUNTER} SET n = n + 1; RETURN NULL; END $$`);
  for (const name of await tableNames()) {
    await client.query(
      `CREATE OR REPLACE TRIGGER spec_counted AFTER INSERT OR UPDATE OR DELETE ON "${name}" FOR EACH ROW EXECUTE FUNCTION spec_count_write()`,
    );
  }
  return {
    version: async () => String((await client.query<{ n: string }>(`SELECT n FROM ${COUNTER}`)).rows[0].n),
    /** Rows sorted (a table has no order of its own here). */
    async contents() {
      const out = new Map<string, string[]>();
      const schema = await client.query(
        `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> $1 ORDER BY table_name, ordinal_position`,
        [COUNTER],
      );
      const indexes = await client.query(
        `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
      );
      out.set('(schema)', [...schema.rows, ...indexes.rows].map(rowText));
      for (const name of await tableNames()) out.set(name, (await client.query(`SELECT * FROM "${name}"`)).rows.map(rowText).sort());
      return out;
    },
    close: () => client.end(),
  };
}

/** Another connection that takes the database's write lock and lets go of it (reads go on meanwhile). */
export interface WriteLocker {
  /** The error code a write refused meanwhile has. */
  readonly busyCode: string;
  lock(): Promise<void>;
  unlock(): Promise<void>;
  close(): Promise<void>;
}

export async function writeLocker(path: string): Promise<WriteLocker> {
  if (!onPostgres) {
    const db = new Sqlite(path);
    const exec = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
    return {
      busyCode: 'SQLITE_BUSY',
      lock: () => exec('BEGIN IMMEDIATE'),
      unlock: () => exec('ROLLBACK'),
      close: () => new Promise<void>((resolve) => db.close(() => resolve())),
    };
  }
  const client = new Client({ connectionString: await ensureDatabase(path) });
  await client.connect();
  return {
    busyCode: '55P03', // lock_not_available: DATABASE_BUSY_TIMEOUT_MS is PostgreSQL's lock_timeout
    // EXCLUSIVE mode on every table: writes wait for it, reads do not (as SQLite's reserved lock).
    async lock() {
      const { rows } = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${rows.map((r) => `"${r.name}"`).join(', ')} IN EXCLUSIVE MODE`);
    },
    unlock: async () => void (await client.query('ROLLBACK')),
    close: () => client.end(),
  };
}
