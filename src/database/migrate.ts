import { DataSource } from 'typeorm';
import { dialectOf } from './dialect';

/** Any constant: the key of the advisory lock every process takes to migrate the PostgreSQL schema. */
const MIGRATION_LOCK = 7_195_582_180;

/**
 * Applies the pending schema migrations. On PostgreSQL several processes (replicas, the token CLI) may
 * start at once: each migrates while holding an advisory lock, so the second finds nothing left to do
 * instead of failing on tables the first created. (SQLite's file lock already serializes them.)
 */
export async function migrate(source: DataSource, options: { transaction?: 'all' | 'each' } = {}): Promise<void> {
  if (dialectOf(source) !== 'postgres') {
    await source.runMigrations(options);
    return;
  }
  const session = source.createQueryRunner();
  await session.connect();
  try {
    // However long another process takes to migrate (DATABASE_BUSY_TIMEOUT_MS is for the app's statements).
    await session.query('SET lock_timeout = 0');
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await source.runMigrations(options);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      await session.query('RESET lock_timeout');
    }
  } finally {
    await session.release();
  }
}
