// What a database error means for the caller, on either database: unavailable for now (503 with
// Retry-After, a pass skipped), or a broken constraint (409).

/** SQLite: locked by another connection, or the file cannot be written. */
const SQLITE_UNAVAILABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY']);
/** The connection to PostgreSQL failed or was cut (a restart, a failover, the network). */
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/**
 * PostgreSQL SQLSTATEs: connection exceptions (class 08), insufficient resources (53: too many
 * connections, disk full), shutting down or starting (57P01–57P03), read-only after a failover
 * (25006), a lock held longer than DATABASE_BUSY_TIMEOUT_MS (55P03), and conflicts that outlived the
 * retries (40001 serialization, 40P01 deadlock).
 */
const PG_UNAVAILABLE = /^(08...|53...|57P0[123]|25006|55P03|40001|40P01)$/;
/** node-postgres and its pool say so in words only. */
const PG_UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is closed',
];

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The database cannot answer now but may shortly: busy, unreachable, restarting, full. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (SQLITE_UNAVAILABLE.has(code) || SOCKET_ERRORS.has(code) || PG_UNAVAILABLE.test(code))) return true;
  const message = textOf((error as { message?: unknown } | null | undefined)?.message);
  return PG_UNAVAILABLE_MESSAGES.some((words) => message.includes(words));
}

/** A transaction PostgreSQL aborted for a concurrent one: running it again may succeed. */
export function isRetryableConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40001' || code === '40P01';
}

export type ConstraintBroken = { kind: 'unique'; column: string | undefined } | { kind: 'reference' };

/** A UNIQUE (with the first column of the key) or FOREIGN KEY constraint the statement broke. */
export function brokenConstraint(error: unknown): ConstraintBroken | undefined {
  const code = codeOf(error);
  const message = textOf((error as { message?: unknown } | null | undefined)?.message);
  if (message.includes('UNIQUE constraint failed')) {
    return { kind: 'unique', column: message.split(':').pop()?.trim().split(',')[0]?.split('.').pop() };
  }
  if (code === '23505') {
    // detail: Key ("clusterId", name)=(…, …) already exists.
    const detail = textOf((error as { driverError?: { detail?: unknown } }).driverError?.detail);
    const key = /^Key \(([^)]*)\)=/.exec(detail)?.[1];
    return { kind: 'unique', column: key?.split(',')[0]?.trim().replace(/"/g, '') };
  }
  if (message.includes('FOREIGN KEY constraint failed') || code === '23503') return { kind: 'reference' };
  return undefined;
}
