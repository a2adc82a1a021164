// List pages built as JSON text by SQLite. Lists are the most frequent requests there are, and a page of
// 50 rows read the usual way costs the event loop far more than SQLite's work: sqlite3 turns every
// value into a JavaScript one, the view maps every row, JSON.stringify prints it all again. Here the
// SQL (on a kept prepared statement, in the thread pool) returns the page's JSON as one string, and
// the answer is that string.
import { Header } from '@nestjs/common';
import { Database } from '../database/database.service';
import { Page } from './pagination';

/** JSON text whose value has the shape T (what the API documents), sent as it is. */
export type JsonText<T> = string & { readonly __jsonOf?: T };

/** On a route that returns JsonText: the body is sent as it is, labelled JSON (a plain string would go out as text/html). */
export const SendsJsonText = () => Header('Content-Type', 'application/json; charset=utf-8');

const quote = (column: string) => `"${column}"`;

/** One SQL expression giving a JSON value, as each database writes it. */
export interface JsonSql {
  readonly sqlite: string;
  readonly postgres: string;
}

/** ISO 8601 as Date.toJSON prints it, from a PostgreSQL timestamp holding UTC. */
const pgIso = (timestamp: string) => `to_char(${timestamp}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * SQL expressions, from code only, each giving one JSON value of a row, the same value its view
 * would have in JSON.stringify.
 */
export const jsonOf = {
  /** A text or integer column as it is. */
  column: (column: string): JsonSql => ({ sqlite: quote(column), postgres: quote(column) }),
  /**
   * A REAL column: 15 significant digits when they read back as the same number, else 17, which
   * always do (SQLite's printf goes past 15 only with its `!` flag). JSON.stringify prints the
   * shortest form that reads back, so the text may have more digits; the number a client parses is
   * the same. PostgreSQL prints the shortest such form itself. Infinities become null, as in JSON.stringify.
   */
  real: (column: string): JsonSql => {
    const c = quote(column);
    return {
      sqlite:
        `CASE WHEN ${c} IS NULL OR abs(${c}) > 1.7976931348623157e308 THEN NULL ` +
        `WHEN CAST(printf('%.15g', ${c}) AS REAL) = ${c} THEN json(printf('%.15g', ${c})) ELSE json(printf('%!.17g', ${c})) END`,
      postgres: `CASE WHEN ${c} IN ('Infinity', '-Infinity', 'NaN') THEN NULL ELSE to_json(${c}) END`,
    };
  },
  /** A datetime column (SQLite's "YYYY-MM-DD HH:MM:SS.SSS", UTC; PostgreSQL's timestamptz) as Date.toJSON prints it. */
  datetime: (column: string): JsonSql => ({
    sqlite: `strftime('%Y-%m-%dT%H:%M:%fZ', ${quote(column)})`,
    postgres: pgIso(`${quote(column)} AT TIME ZONE 'UTC'`),
  }),
  /** Milliseconds since the epoch (an integer column, not before 1970) as an ISO 8601 text, exactly as Date.toISOString. */
  epochMs: (column: string): JsonSql => {
    const c = quote(column);
    return {
      sqlite: `CASE WHEN ${c} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', ${c} / 1000, 'unixepoch') || printf('.%03dZ', ${c} % 1000) END`,
      // Interval arithmetic is exact (microseconds): a division through a float could print one millisecond less.
      postgres: pgIso(`TIMESTAMP '1970-01-01' + ${c} * INTERVAL '1 millisecond'`),
    };
  },
  /** A column holding JSON text (TypeORM's simple-json), as the value it holds. */
  jsonText: (column: string): JsonSql => ({ sqlite: `json(${quote(column)})`, postgres: `CAST(${quote(column)} AS json)` }),
  /** true when the column holds a value, false when it is NULL. */
  isSet: (column: string): JsonSql => ({
    sqlite: `json(CASE WHEN ${quote(column)} IS NULL THEN 'false' ELSE 'true' END)`,
    postgres: `(${quote(column)} IS NOT NULL)`,
  }),
  /** An object of the given fields, in this order (the order the view's JSON has). */
  object: (fields: Record<string, JsonSql>): JsonSql => {
    const pairs = (dialect: keyof JsonSql) =>
      Object.entries(fields)
        .map(([name, value]) => `'${name}', ${value[dialect]}`)
        .join(', ');
    return { sqlite: `json_object(${pairs('sqlite')})`, postgres: `json_build_object(${pairs('postgres')})` };
  },
};

type FilterValue = string | number | undefined;

export interface JsonPageQuery {
  /** Table and column names come from code, never from a request. */
  table: string;
  /** One item (see jsonOf.object), over the table's columns. */
  item: JsonSql;
  /** Equality filters; undefined ones are left out. */
  filters: Record<string, FilterValue>;
  /** Further conditions, ANDed: SQL from code with `?` placeholders, and their values. */
  conditions?: [sql: string, ...params: unknown[]][];
  orderBy: string;
  /** An index the page is to be read through, where SQLite's planner would sort the whole table instead (SQLite only). */
  indexedBy?: string;
  limit: number;
  offset: number;
}

/** A page as the API sends it, `{"items":[…],"total":n,"limit":l,"offset":o}`: one statement, one trip to the database. */
export async function jsonPage<T>(db: Database, q: JsonPageQuery): Promise<JsonText<Page<T>>> {
  const given = Object.entries(q.filters).filter(([, value]) => value !== undefined) as [string, string | number][];
  const clauses = [...given.map(([column]) => `${quote(column)} = ?`), ...(q.conditions ?? []).map(([sql]) => `(${sql})`)];
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  const params = [...given.map(([, value]) => value), ...(q.conditions ?? []).flatMap(([, ...values]) => values)];
  const total = `SELECT (SELECT COUNT(*) FROM ${quote(q.table)} ${where}) AS total`;
  const page = (from: string) => `FROM (SELECT * FROM ${from} ${where} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?) AS page`;
  // The aggregate orders the items itself too: the order rows reach it in is not promised. (SQLite's
  // joins texts: json_group_array with ORDER BY loses the items' JSON type in this SQLite and quotes them.)
  const sql =
    db.dialect === 'postgres'
      ? `${total}, (SELECT CAST(COALESCE(json_agg(${q.item.postgres} ORDER BY ${q.orderBy}), '[]') AS text) ${page(quote(q.table))}) AS items`
      : `${total}, (SELECT COALESCE('[' || group_concat(${q.item.sqlite}, ',' ORDER BY ${q.orderBy}) || ']', '[]') ` +
        `${page(`${quote(q.table)}${q.indexedBy ? ` INDEXED BY ${quote(q.indexedBy)}` : ''}`)}) AS items`;
  const [row] = await db.readRows<{ total: number; items: string }>(sql, [...params, ...params, q.limit, q.offset]);
  return `{"items":${row.items},"total":${row.total},"limit":${q.limit},"offset":${q.offset}}`;
}
