// PostgreSQL. Its migration set (migrations/postgres) against SQLite's (migrations/): the same tables,
// columns, keys, indexes and references, in each database's types (SQLite's schema is proven equal to
// the entities by schema.e2e-spec.ts). And PostgreSQL unreachable (a restart, a failover, the network):
// requests answer 503 with Retry-After, not 500, nothing is half-written, and the app recovers by itself.
// Most of it needs a server: it runs in the suite's PostgreSQL run (TEST_DATABASE_URL; CI's Node 24 run).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { createTestApp, makeTempDir, removeTempDir, TestApp } from './helpers/test-app';
import { Relay } from './helpers/pg-relay';
import { ensureDatabase, onPostgres } from './helpers/test-database';

interface Column {
  type: string;
  nullable: boolean;
  default: string | null;
}
interface Schema {
  columns: Map<string, Map<string, Column>>;
  primaryKeys: Map<string, string[]>;
  /** `table(columns)` and UNIQUE or not, by index name. */
  indexes: Map<string, string>;
  /** `table(columns) -> table(columns) ON DELETE …`, sorted. */
  references: string[];
}

/** SQLite's declared types as PostgreSQL's migration spells them (INTEGER and REAL are 8 bytes). */
function postgresTypeOf(sqliteType: string): string {
  const t = sqliteType.toLowerCase();
  const varchar = /^varchar(\(\d+\))?$/.exec(t);
  if (varchar) return `character varying${varchar[1] ?? ''}`;
  return (
    {
      integer: 'bigint',
      bigint: 'bigint',
      real: 'double precision',
      datetime: 'timestamp with time zone',
      boolean: 'boolean',
      text: 'text',
    }[t] ?? `?${t}`
  );
}

/** A default as a value: SQLite's `(datetime('now'))`, `('x')`, `(1)` and PostgreSQL's `now()`, `'x'::character varying`, `true`. */
function normalDefault(value: string | null, type: string): string | null {
  if (value === null) return null;
  let v = value.replace(/^\((.*)\)$/s, '$1').replace(/::[a-z ]+$/, '');
  if (v === "datetime('now')") v = 'now()';
  if (type === 'boolean') v = { 1: 'true', 0: 'false' }[v] ?? v;
  return v;
}

async function sqliteSchema(source: DataSource): Promise<Schema> {
  const schema: Schema = { columns: new Map(), primaryKeys: new Map(), indexes: new Map(), references: [] };
  const tables: { name: string }[] = await source.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`);
  for (const { name } of tables) {
    const info: { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[] = await source.query(
      `PRAGMA table_info("${name}")`,
    );
    schema.columns.set(
      name,
      new Map(
        info.map((c) => [
          c.name,
          {
            type: postgresTypeOf(c.type),
            nullable: c.notnull === 0 && c.pk === 0,
            default: normalDefault(c.dflt_value, postgresTypeOf(c.type)),
          },
        ]),
      ),
    );
    schema.primaryKeys.set(
      name,
      info
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
    );
    const indexes: { name: string; unique: number; origin: string }[] = await source.query(`PRAGMA index_list("${name}")`);
    for (const index of indexes.filter((i) => i.origin === 'c')) {
      const columns: { name: string }[] = await source.query(`PRAGMA index_info("${index.name}")`);
      schema.indexes.set(index.name, `${name}(${columns.map((c) => c.name).join(', ')})${index.unique ? ' UNIQUE' : ''}`);
    }
    const references: { id: number; table: string; from: string; to: string; on_delete: string; on_update: string }[] = await source.query(
      `PRAGMA foreign_key_list("${name}")`,
    );
    for (const r of references)
      schema.references.push(`${name}(${r.from}) -> ${r.table}(${r.to}) ON DELETE ${r.on_delete} ON UPDATE ${r.on_update}`);
  }
  schema.references.sort();
  return schema;
}

async function postgresSchema(source: DataSource): Promise<Schema> {
  const schema: Schema = { columns: new Map(), primaryKeys: new Map(), indexes: new Map(), references: [] };
  const columns: {
    table_name: string;
    column_name: string;
    data_type: string;
    length: number | null;
    is_nullable: string;
    column_default: string | null;
  }[] = await source.query(
    `SELECT table_name, column_name, data_type, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  for (const c of columns) {
    const type = c.length ? `${c.data_type}(${c.length})` : c.data_type;
    const table = schema.columns.get(c.table_name) ?? new Map<string, Column>();
    // Ids the database makes (SQLite's are made by TypeORM), and the migrations table's serial key.
    const made = /^(gen_random_uuid\(\)|nextval\(.*\))$/.test(c.column_default ?? '');
    table.set(c.column_name, { type, nullable: c.is_nullable === 'YES', default: made ? null : normalDefault(c.column_default, type) });
    schema.columns.set(c.table_name, table);
  }
  const keys: {
    table: string;
    kind: string;
    name: string;
    columns: string[];
    target: string | null;
    targets: string[] | null;
    del: string;
    upd: string;
  }[] = await source.query(
    `SELECT c.conrelid::regclass::text AS table, c.contype AS kind, c.conname AS name, c.confrelid::regclass::text AS target,
              ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
              ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS targets,
              c.confdeltype AS del, c.confupdtype AS upd
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.contype IN ('p', 'f')`,
  );
  const action: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
  for (const k of keys) {
    const table = k.table.replace(/"/g, '');
    if (k.kind === 'p') schema.primaryKeys.set(table, k.columns);
    else
      schema.references.push(
        `${table}(${k.columns.join(', ')}) -> ${k.target!.replace(/"/g, '')}(${k.targets!.join(', ')}) ON DELETE ${action[k.del]} ON UPDATE ${action[k.upd]}`,
      );
  }
  schema.references.sort();
  const indexes: { table: string; name: string; unique: boolean; columns: string[] }[] = await source.query(
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique,
            ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND NOT x.indisprimary`,
  );
  for (const i of indexes) schema.indexes.set(i.name, `${i.table}(${i.columns.join(', ')})${i.unique ? ' UNIQUE' : ''}`);
  return schema;
}

const sorted = <V>(map: Map<string, V>) => Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));

/**
 * Tables and indexes a migration file's SQL creates, by name. Names made in code (`"${…}"`) are left
 * out: those are the day partitions and the tables and indexes 1796900000101 rebuilds as they were,
 * which the initial migration names literally (the schema itself is compared on a server below).
 */
function createdIn(sql: string): string[] {
  return [...sql.matchAll(/CREATE (?:UNIQUE )?(TABLE|INDEX)(?: IF NOT EXISTS)? "([^"]+)"/g)]
    .filter(([, , name]) => !name.startsWith('${'))
    .map(([, kind, name]) => `${kind.toLowerCase()} ${name}`);
}

// Without a server: what PostgreSQL's migration set names, against what SQLite's migrations made.
describe('the PostgreSQL migration set', () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  it('creates every table and index the SQLite migrations make, and no other', async () => {
    const sqlite = new DataSource(dataSourceOptions({ path: join(dir, 'names.sqlite'), busyTimeoutMs: 1000 }));
    await sqlite.initialize();
    try {
      await sqlite.runMigrations();
      const made: { type: string; name: string }[] = await sqlite.query(
        `SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'`,
      );
      const folder = join(__dirname, '..', 'migrations', 'postgres');
      const named = readdirSync(folder).flatMap((file) => createdIn(readFileSync(join(folder, file), 'utf8')));
      expect(named.sort()).toEqual(made.map((m) => `${m.type} ${m.name}`).sort());
    } finally {
      await sqlite.destroy();
    }
  });
});

if (onPostgres) {
  describe('the PostgreSQL schema migrations', () => {
    const dir = makeTempDir();
    let sqlite: DataSource;
    let postgres: DataSource;

    beforeAll(async () => {
      sqlite = new DataSource(dataSourceOptions({ path: join(dir, 'schema.sqlite'), busyTimeoutMs: 1000 }));
      const url = await ensureDatabase(join(dir, 'schema-pg'), { empty: true });
      postgres = new DataSource(dataSourceOptions({ path: join(dir, 'schema-pg'), busyTimeoutMs: 1000, url }));
      await Promise.all([sqlite.initialize(), postgres.initialize()]);
      await sqlite.runMigrations();
      expect((await postgres.runMigrations()).length).toBeGreaterThan(0);
    });

    afterAll(async () => {
      await Promise.all([sqlite?.destroy(), postgres?.destroy()]);
      removeTempDir(dir);
    });

    it('produce what all the SQLite migrations produce: tables, columns, types, defaults, keys, indexes, references', async () => {
      const [fromSqlite, fromPostgres] = await Promise.all([sqliteSchema(sqlite), postgresSchema(postgres)]);
      expect([...fromPostgres.columns.keys()].sort()).toEqual([...fromSqlite.columns.keys()].sort());
      for (const [table, columns] of fromSqlite.columns) {
        // TypeORM makes its migrations table itself, as each database has it.
        if (table === 'schema_migrations') continue;
        expect({ table, columns: sorted(fromPostgres.columns.get(table)!) }).toEqual({ table, columns: sorted(columns) });
      }
      expect(sorted(fromPostgres.primaryKeys)).toEqual(sorted(fromSqlite.primaryKeys));
      expect(sorted(fromPostgres.indexes)).toEqual(sorted(fromSqlite.indexes));
      expect(fromPostgres.references).toEqual(fromSqlite.references);
    });

    it('hold every column of every entity', async () => {
      const { columns } = await postgresSchema(postgres);
      const missing = postgres.entityMetadatas.flatMap((entity) =>
        entity.columns
          .filter((c) => !columns.get(entity.tableName)?.has(c.databaseName))
          .map((c) => `${entity.tableName}.${c.databaseName}`),
      );
      expect(postgres.entityMetadatas.length).toBeGreaterThan(10);
      expect(missing).toEqual([]);
    });

    it('can be reverted down to an empty database and applied again', async () => {
      const applied = await postgres.query(`SELECT COUNT(*) AS n FROM schema_migrations`);
      for (let i = 0; i < applied[0].n; i++) await postgres.undoLastMigration();
      const tables = await postgres.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
      );
      expect(tables).toEqual([]);
      expect((await postgres.runMigrations()).length).toBe(applied[0].n);
    });
  });

  describe('PostgreSQL unreachable', () => {
    const dir = makeTempDir();
    let relay: Relay;
    let t: TestApp;

    beforeAll(async () => {
      const databasePath = join(dir, 'drs.sqlite');
      const url = new URL(await ensureDatabase(databasePath));
      relay = new Relay(url);
      await relay.start();
      const relayed = new URL(url);
      relayed.hostname = '127.0.0.1';
      relayed.port = String(relay.port);
      t = await createTestApp({ databasePath, env: { DATABASE_URL: relayed.toString(), SCHEDULER_ENABLED: false } });
    });

    afterAll(async () => {
      await t?.close();
      await relay?.cut();
      removeTempDir(dir);
    });

    it('answers 503 with Retry-After meanwhile, writes nothing half, and serves again once it is back', async () => {
      const kept = (await t.http.post('/api/v1/clusters').send({ name: 'before the outage' }).expect(201)).body;

      await relay.cut();
      for (const res of [
        await t.http.get('/api/v1/clusters'),
        await t.http.get(`/api/v1/clusters/${kept.id}`),
        await t.http.post('/api/v1/clusters').send({ name: 'during the outage' }),
      ]) {
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('2');
        expect(res.body.detail).toMatch(/unreachable/);
      }

      await relay.restore();
      const deadline = Date.now() + 15_000;
      let res = await t.http.get('/api/v1/clusters');
      while (res.status !== 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        res = await t.http.get('/api/v1/clusters');
      }
      expect(res.status).toBe(200);
      expect(res.body.items.map((c: { name: string }) => c.name)).toEqual(['before the outage']);
      await t.http.post('/api/v1/clusters').send({ name: 'after the outage' }).expect(201);
    });
  });
}
