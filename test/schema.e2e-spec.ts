import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { makeTempDir, removeTempDir } from './helpers/test-app';

describe('schema migrations', () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  it('produce exactly what the entities describe: generating a migration after running them yields none', async () => {
    const source = new DataSource(dataSourceOptions({ path: join(dir, 'schema.sqlite'), busyTimeoutMs: 1000 }));
    await source.initialize();
    try {
      const applied = await source.runMigrations();
      expect(applied.length).toBeGreaterThan(0);
      const pending = await source.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await source.destroy();
    }
  });

  it('can be reverted down to an empty database and applied again', async () => {
    const source = new DataSource(dataSourceOptions({ path: join(dir, 'revert.sqlite'), busyTimeoutMs: 1000 }));
    await source.initialize();
    try {
      const applied = await source.runMigrations();
      for (let i = 0; i < applied.length; i++) await source.undoLastMigration();
      const tables = await source.query(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'`,
      );
      expect(tables).toEqual([]);
      expect((await source.runMigrations()).length).toBe(applied.length);
    } finally {
      await source.destroy();
    }
  });
});
