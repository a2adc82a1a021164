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

/**
 * SQL expressions, from code only, each giving one JSON value of a row, the same value its view
 * would have in JSON.stringify.
 */
export const jsonOf = {
  /** A text or integer column as it is. */
  column: quote,
  /**
   * A REAL column: 15 significant digits when they read back as the same number, else 17, which
   * always do (SQLite's printf goes past 15 only with its `!` flag). JSON.stringify prints the
   * shortest form that reads back, so the text may have more digits; the number a client parses is
   * the same. Infinities become null, as in JSON.stringify.
   */
  real: (column: string) => {
    const c = quote(column);
    return (
      `CASE WHEN ${c} IS NULL OR abs(${c}) > 1.7976931348623157e308 THEN NULL ` +
      `WHEN CAST(printf('%.15g', ${c}) AS REAL) = ${c} THEN json(printf('%.15g', ${c})) ELSE json(printf('%!.17g', ${c})) END`
    );
  },
  /** A datetime column (SQLite's "YYYY-MM-DD HH:MM:SS.SSS", UTC) as Date.toJSON prints it. */
  datetime: (column: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${quote(column)})`,
  /** Milliseconds since the epoch (an integer column, not before 1970) as an ISO 8601 text, exactly as Date.toISOString. */
  epochMs: (column: string) => {
    const c = quote(column);
    return `CASE WHEN ${c} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', ${c} / 1000, 'unixepoch') || printf('.%03dZ', ${c} % 1000) END`;
  },
  /** A column holding JSON text (TypeORM's simple-json), as the value it holds. */
  jsonText: (column: string) => `json(${quote(column)})`,
  /** true when the column holds a value, false when it is NULL. */
  isSet: (column: string) => `json(CASE WHEN ${quote(column)} IS NULL THEN 'false' ELSE 'true' END)`,
  /** An object of the given fields, in this order (the order the view's JSON has). */
  object: (fields: Record<string, string>) =>
    `json_object(${Object.entries(fields)
      .map(([name, value]) => `'${name}', ${value}`)
      .join(', ')})`,
};

type FilterValue = string | number | undefined;

export interface JsonPageQuery {
  /** Table and column names come from code, never from a request. */
  table: string;
  /** One item (see jsonOf.object), over the table's columns. */
  item: string;
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

/** A page as the API sends it, `{"items":[…],"total":n,"limit":l,"offset":o}`: one statement, one trip to SQLite. */
export async function jsonPage<T>(db: Database, q: JsonPageQuery): Promise<JsonText<Page<T>>> {
  const given = Object.entries(q.filters).filter(([, value]) => value !== undefined) as [string, string | number][];
  const clauses = [...given.map(([column]) => `${quote(column)} = ?`), ...(q.conditions ?? []).map(([sql]) => `(${sql})`)];
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  const params = [...given.map(([, value]) => value), ...(q.conditions ?? []).flatMap(([, ...values]) => values)];
  const from = `${quote(q.table)}${q.indexedBy ? ` INDEXED BY ${quote(q.indexedBy)}` : ''}`;
  // The aggregate orders the items itself too: the order rows reach it in is not promised. (It joins
  // texts: json_group_array with ORDER BY loses the items' JSON type in this SQLite and quotes them.)
  const sql =
    `SELECT (SELECT COUNT(*) FROM ${quote(q.table)} ${where}) AS total, ` +
    `(SELECT COALESCE('[' || group_concat(${q.item}, ',' ORDER BY ${q.orderBy}) || ']', '[]') ` +
    `FROM (SELECT * FROM ${from} ${where} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?)) AS items`;
  const [row] = await db.readRows<{ total: number; items: string }>(sql, [...params, ...params, q.limit, q.offset]);
  return `{"items":${row.items},"total":${row.total},"limit":${q.limit},"offset":${q.offset}}`;
}
