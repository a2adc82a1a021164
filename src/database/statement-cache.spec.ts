import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database as SqliteDatabase } from 'sqlite3';
import { StatementCache } from './statement-cache';

function run(db: SqliteDatabase, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
}

function close(db: SqliteDatabase): Promise<void> {
  return new Promise((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
}

describe('StatementCache', () => {
  let dir: string;
  let writer: SqliteDatabase;
  let reader: SqliteDatabase;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'statement-cache-'));
    writer = new SqliteDatabase(join(dir, 'db.sqlite'));
    await run(writer, 'PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    await run(writer, "INSERT INTO t (v) VALUES ('a'), ('b'), ('c')");
    reader = new SqliteDatabase(join(dir, 'db.sqlite'));
  });

  afterEach(async () => {
    await close(writer);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prepares each SQL text once and runs it with each call’s parameters', async () => {
    const cache = new StatementCache(reader);
    const prepare = jest.spyOn(reader, 'prepare');
    const sql = 'SELECT v FROM t WHERE id = ?';
    const answers = await Promise.all([1, 2, 3, 2].map((id) => cache.all<{ v: string }>(sql, [id])));
    expect(answers.map((rows) => rows.map((r) => r.v))).toEqual([['a'], ['b'], ['c'], ['b']]);
    expect(prepare).toHaveBeenCalledTimes(1);
    await cache.close();
    await close(reader);
  });

  it('sees every write committed since its last call: a kept statement holds no old snapshot', async () => {
    const cache = new StatementCache(reader);
    const count = () => cache.all<{ n: number }>('SELECT COUNT(*) AS n FROM t', []).then(([row]) => row.n);
    expect(await count()).toBe(3);
    await run(writer, "INSERT INTO t (v) VALUES ('d')");
    expect(await count()).toBe(4);
    // And the writer can still checkpoint the whole log: no reader pins an old part of it.
    const checkpoint = await new Promise<{ busy: number }>((resolve, reject) =>
      writer.get('PRAGMA wal_checkpoint(TRUNCATE)', (err, row) => (err ? reject(err) : resolve(row as { busy: number }))),
    );
    expect(checkpoint.busy).toBe(0);
    await cache.close();
    await close(reader);
  });

  it('keeps at most its limit, dropping the least recently used, and the connection closes after close()', async () => {
    const cache = new StatementCache(reader, 2);
    const prepare = jest.spyOn(reader, 'prepare');
    await cache.all('SELECT 1 AS x', []);
    await cache.all('SELECT 2 AS x', []);
    await cache.all('SELECT 1 AS x', []); // now the most recently used
    await cache.all('SELECT 3 AS x', []); // drops SELECT 2
    expect(cache.size).toBe(2);
    await cache.all('SELECT 1 AS x', []);
    expect(prepare).toHaveBeenCalledTimes(3);
    await cache.all('SELECT 2 AS x', []);
    expect(prepare).toHaveBeenCalledTimes(4);
    await cache.close();
    await expect(close(reader)).resolves.toBeUndefined();
    await expect(cache.all('SELECT 1 AS x', [])).rejects.toThrow(/closing/);
  });

  it('rejects a call whose SQL does not prepare, every time, and keeps no such statement', async () => {
    const cache = new StatementCache(reader);
    await expect(cache.all('SELECT nope FROM missing', [])).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
    await expect(cache.all('SELECT nope FROM missing', [])).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
    expect(cache.size).toBe(0);
    await cache.close();
    await close(reader);
  });
});
