// Lists read as plain rows: a page of 50 entities costs TypeORM's query building and hydration more
// than SQLite's work, and list endpoints are the most frequent requests there are.
import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

type FilterValue = string | number | undefined;

export interface RawPageQuery {
  /** Table and column names come from code, never from a request. */
  table: string;
  columns: readonly string[];
  /** Equality filters; undefined ones are left out. */
  filters: Record<string, FilterValue>;
  /** Further conditions, ANDed: SQL from code with `?` placeholders, and their values. */
  conditions?: [sql: string, ...params: unknown[]][];
  orderBy: string;
  /** An index the page is to be read through, where SQLite's planner would sort the whole table instead. */
  indexedBy?: string;
  limit: number;
  offset: number;
}

/** One page and the total across pages. */
export async function rawPage<R>(m: EntityManager, q: RawPageQuery): Promise<{ rows: R[]; total: number }> {
  const given = Object.entries(q.filters).filter(([, value]) => value !== undefined) as [string, string | number][];
  const clauses = [...given.map(([column]) => `"${column}" = ?`), ...(q.conditions ?? []).map(([sql]) => `(${sql})`)];
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  const params = [...given.map(([, value]) => value), ...(q.conditions ?? []).flatMap(([, ...values]) => values)];
  const from = `"${q.table}"${q.indexedBy ? ` INDEXED BY "${q.indexedBy}"` : ''}`;
  // Both statements are sent at once (the connection runs them back to back): a full page needs the
  // count, and waiting for the page before asking for it cost a second trip through the event loop.
  const rowsRead: Promise<R[]> = m.query(`SELECT ${q.columns.map((c) => `"${c}"`).join(', ')} FROM ${from} ${where} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`, [
    ...params,
    q.limit,
    q.offset,
  ]);
  const counted: Promise<{ n: number }[]> = m.query(`SELECT COUNT(*) AS n FROM "${q.table}" ${where}`, params);
  const [rows, [{ n }]] = await Promise.all([rowsRead, counted]);
  return { rows, total: n };
}

const PLAIN_DATETIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d\d\d)?$/;

/**
 * A datetime column as the API shows it: exactly the JSON of the Date TypeORM would hydrate
 * (toISOString), without making the Date. Lists show two per row, and Date parsing and printing
 * was a fifth of the cost of a page.
 */
export function sqliteDateJson(value: string | Date | null): string | null {
  if (typeof value === 'string' && PLAIN_DATETIME.test(value)) {
    return `${value.slice(0, 10)}T${value.slice(11, 19)}.${value.length > 19 ? value.slice(20, 23) : '000'}Z`;
  }
  const date = sqliteDate(value);
  return date instanceof Date ? date.toJSON() : date;
}

/**
 * The createdAt and updatedAt of a raw row, turned into what the API shows (see sqliteDateJson). The
 * row stands in for its entity where only its JSON matters: a view about to be sent.
 */
export function withJsonDates<E>(row: Record<string, unknown>): E {
  row.createdAt = sqliteDateJson(row.createdAt as string | null);
  row.updatedAt = sqliteDateJson(row.updatedAt as string | null);
  return row as E;
}

/**
 * A datetime column as TypeORM hydrates it: SQLite keeps "YYYY-MM-DD HH:MM:SS[.SSS]" in UTC.
 * (AbstractSqliteDriver.prepareHydratedValue, for the same results as entity reads.)
 */
export function sqliteDate(value: string | Date | null): Date | null {
  if (value === null || value instanceof Date) return value;
  let text = value;
  if (/^\d\d\d\d-\d\d-\d\d \d\d:\d\d/.test(text)) text = text.replace(' ', 'T');
  if (/^\d\d\d\d-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d\d\d)?)?$/.test(text)) text += 'Z';
  return text ? new Date(text) : (text as unknown as null);
}

const columnsOf = new WeakMap<object, readonly string[]>();

/** The entity's columns in the order TypeORM sets them when it hydrates one (property = column name here). */
export function entityColumns<T extends ObjectLiteral>(m: EntityManager, entity: EntityTarget<T>): readonly string[] {
  const metadata = m.connection.getMetadata(entity);
  let columns = columnsOf.get(metadata);
  if (!columns) {
    columns = metadata.columns.map((c) => {
      if (c.databaseName !== c.propertyName) throw new Error(`${metadata.name}.${c.propertyName} is stored as ${c.databaseName}: read it through TypeORM`);
      return c.databaseName;
    });
    columnsOf.set(metadata, columns);
  }
  return columns;
}
