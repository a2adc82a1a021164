import fc from 'fast-check';
import { Client } from 'pg';
import { Database as SqliteDatabase } from 'sqlite3';
import { jsonOf, type JsonSql } from './json-page';

/** Stores one row in table t, then reads the expression over it as JSON and parses it. */
interface Backend {
  valueOf(row: Record<string, unknown>, expression: JsonSql): Promise<unknown>;
  close(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const db = new SqliteDatabase(':memory:');
  const all = (sql: string, params: unknown[] = []) =>
    new Promise<{ j: string }[]>((resolve, reject) =>
      db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as { j: string }[]))),
    );
  await all('CREATE TABLE t (r REAL, ms INTEGER, dt DATETIME, doc TEXT, flag INTEGER)');
  return {
    async valueOf(row, expression) {
      const columns = Object.keys(row);
      await all('DELETE FROM t');
      await all(`INSERT INTO t (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
      const [{ j }] = await all(`SELECT json_object('v', ${expression.sqlite}) AS j FROM t`);
      return (JSON.parse(j) as { v: unknown }).v;
    },
    close: () => new Promise<void>((resolve) => db.close(() => resolve())),
  };
}

/** The same table on PostgreSQL (a temporary one), its columns of the types the PostgreSQL migration gives. */
async function postgresBackend(url: string): Promise<Backend> {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TEMPORARY TABLE t (r double precision, ms bigint, dt timestamp with time zone, doc text, flag bigint)');
  return {
    async valueOf(row, expression) {
      // The datetimes below are UTC, as TypeORM writes them.
      const values = Object.entries(row).map(([column, value]) => (column === 'dt' && typeof value === 'string' ? `${value}Z` : value));
      const columns = Object.keys(row);
      await client.query('DELETE FROM t');
      await client.query(`INSERT INTO t (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
      const { rows } = await client.query<{ j: string }>(`SELECT CAST(json_build_object('v', ${expression.postgres}) AS text) AS j FROM t`);
      return (JSON.parse(rows[0].j) as { v: unknown }).v;
    },
    close: () => client.end(),
  };
}

// What the database builds must parse to exactly what the views' JSON.stringify would have sent: on
// SQLite, and on PostgreSQL when the specs run there too (TEST_DATABASE_URL).
const BACKENDS: [string, () => Promise<Backend>][] = [['SQLite', sqliteBackend]];
if (process.env.TEST_DATABASE_URL) BACKENDS.push(['PostgreSQL', () => postgresBackend(process.env.TEST_DATABASE_URL!)]);

describe.each(BACKENDS)('jsonOf on %s', (_, open) => {
  let backend: Backend;
  const valueOf = (row: Record<string, unknown>, expression: JsonSql) => backend.valueOf(row, expression);

  beforeAll(async () => (backend = await open()));
  afterAll(() => backend.close());

  it('prints a REAL column as the same number JSON.stringify would send', async () => {
    const awkward = [0.1, 0.1 + 0.2, 1 / 3, 25, -0.5, 1e21, 1.5e-7, 123456789.12345679, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE];
    for (const r of awkward) expect(await valueOf({ r }, jsonOf.real('r'))).toBe(JSON.parse(JSON.stringify(r)));
    await fc.assert(
      fc.asyncProperty(fc.double({ noNaN: true, noDefaultInfinity: true }), async (r) => {
        expect(await valueOf({ r }, jsonOf.real('r'))).toBe(JSON.parse(JSON.stringify(r)));
      }),
      { numRuns: 300 },
    );
  });

  it('prints a NULL or infinite REAL as null, as JSON.stringify does', async () => {
    expect(await valueOf({ r: null }, jsonOf.real('r'))).toBeNull();
    expect(await valueOf({ r: Infinity }, jsonOf.real('r'))).toBeNull();
    expect(await valueOf({ r: -Infinity }, jsonOf.real('r'))).toBeNull();
  });

  it('prints epoch milliseconds exactly as Date.toISOString', async () => {
    for (const ms of [0, 1, 999, 1000, 1_701_360_000_123, 4_102_444_799_999]) {
      expect(await valueOf({ ms }, jsonOf.epochMs('ms'))).toBe(new Date(ms).toISOString());
    }
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 8_000_000_000_000 }), async (ms) => {
        expect(await valueOf({ ms }, jsonOf.epochMs('ms'))).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 300 },
    );
    expect(await valueOf({ ms: null }, jsonOf.epochMs('ms'))).toBeNull();
  });

  it('prints a stored datetime as the Date TypeORM would hydrate prints in JSON', async () => {
    for (const dt of ['2026-11-30 19:14:21', '2026-11-30 19:14:21.5', '2026-11-30 19:14:21.123', '1999-12-31 23:59:59.999']) {
      expect(await valueOf({ dt }, jsonOf.datetime('dt'))).toBe(new Date(`${dt.replace(' ', 'T')}Z`).toJSON());
    }
    expect(await valueOf({ dt: null }, jsonOf.datetime('dt'))).toBeNull();
  });

  it('embeds JSON text as the value it holds, and tells set from NULL', async () => {
    const doc = { vmId: 'a', nested: { list: [1, 2.5, null, 'x'] }, text: 'quote " and unicode é' };
    expect(await valueOf({ doc: JSON.stringify(doc) }, jsonOf.jsonText('doc'))).toEqual(doc);
    expect(await valueOf({ doc: null }, jsonOf.jsonText('doc'))).toBeNull();
    expect(await valueOf({ flag: 17 }, jsonOf.isSet('flag'))).toBe(true);
    expect(await valueOf({ flag: null }, jsonOf.isSet('flag'))).toBe(false);
  });

  it('builds objects with the fields in the order given, nested ones included', async () => {
    const expression = jsonOf.object({ b: jsonOf.column('flag'), a: jsonOf.object({ z: jsonOf.real('r'), y: jsonOf.epochMs('ms') }) });
    const value = await valueOf({ flag: 3, r: 2.5, ms: 0 }, expression);
    expect(JSON.stringify(value)).toBe('{"b":3,"a":{"z":2.5,"y":"1970-01-01T00:00:00.000Z"}}');
  });
});
