// The two databases' SQL differences the repositories meet, in one place. Raw SQL in this project is
// written once, for both: `?` placeholders and double-quoted mixed-case identifiers (PostgreSQL folds
// unquoted names to lower case; SQLite accepts both). What cannot be written once is chosen here by
// dialect, and the repositories keep their SQL for each side next to each other.
import { DataSource, EntityManager } from 'typeorm';

export type Dialect = 'sqlite' | 'postgres';

/** The database behind a data source or an entity manager (a transaction's included). */
export function dialectOf(source: DataSource | EntityManager): Dialect {
  const dataSource = source instanceof DataSource ? source : source.connection;
  return dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * `?` placeholders numbered as PostgreSQL's `$1`, `$2`…; a `?` inside a quoted text or identifier is
 * left as it is. (The SQL comes from code: there are no comments in it to skip.)
 */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** The SQL as the database behind `m` takes it. */
export function forDialect(dialect: Dialect, sql: string): string {
  return dialect === 'postgres' ? numberedPlaceholders(sql) : sql;
}

/** Rows of a statement written with `?` placeholders, on either database. */
export function selectRows<R>(m: EntityManager, sql: string, params: unknown[] = []): Promise<R[]> {
  return m.query(forDialect(dialectOf(m), sql), params);
}

/** Runs an INSERT, UPDATE or DELETE written with `?` placeholders; resolves to the rows it changed. */
export async function execute(m: EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  // The manager's own runner inside a transaction; a connection of the pool otherwise.
  const runner = m.queryRunner ?? m.connection.createQueryRunner();
  try {
    const result = await runner.query(forDialect(dialectOf(m), sql), params, true);
    return result.affected ?? 0;
  } finally {
    if (runner !== m.queryRunner) await runner.release();
  }
}

/** `col IN (?, ?, …)` for `n` values: `n` must be above 0 (an empty IN is a syntax error on PostgreSQL). */
export const placeholdersFor = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** A boolean literal: SQLite keeps booleans as 0 and 1. */
export const booleanLiteral = (dialect: Dialect, value: boolean): string => (dialect === 'postgres' ? String(value) : value ? '1' : '0');
