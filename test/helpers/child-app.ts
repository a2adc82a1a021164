// The real app in a child process (test/helpers/app-process.ts), for tests that kill it with SIGKILL
// and start it again on the same SQLite file; and direct reads of that file (on PostgreSQL, when the
// specs run there: the database standing for that file, see test-database.ts).
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { Database as Sqlite } from 'sqlite3';
import { databaseEnv, ensureDatabase, onPostgres, postgresSql } from './test-database';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(__dirname, 'app-process.ts');
/** Transpiles like ts-node's transpile-only mode, with an on-disk cache: a restart costs ~1.5 s, not ~8 s. */
const REGISTER = join(__dirname, 'ts-cached-register.js');

export interface ChildApp {
  proc: ChildProcess;
  baseUrl: string;
  /** Milliseconds from spawn to serving. */
  startMs: number;
  /** The last 4,000 characters it wrote to stderr. */
  stderr(): string;
}

export interface CallResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read as supertest reads one (see eslint.config.mjs)
  body: any;
  /** The content-type header ('' without one). */
  type: string;
  /** The body as it came, before parsing (to look for what must never be in an answer). */
  text: string;
}

/** Starts the app on `env` (DATABASE_PATH and the like) and resolves once it serves. */
export async function startApp(env: Record<string, unknown>, timeoutMs = 60_000): Promise<ChildApp> {
  const started = Date.now();
  const database = typeof env.DATABASE_PATH === 'string' ? await databaseEnv(env.DATABASE_PATH) : {};
  const proc = spawn(
    process.execPath,
    ['-r', REGISTER, ENTRY, JSON.stringify({ ...database, ...(process.env.CHILD_LOG_DIR ? { LOG_LEVEL: 'debug' } : {}), ...env })],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  // CHILD_LOG_DIR (when chasing a failure): each child's whole output, at debug level, in <dir>/<REPLICA_NAME or pid>.log.
  if (process.env.CHILD_LOG_DIR) {
    const name = typeof env.REPLICA_NAME === 'string' ? env.REPLICA_NAME : String(proc.pid);
    const out = createWriteStream(join(process.env.CHILD_LOG_DIR, `${name}.log`), { flags: 'a' });
    proc.stdout.on('data', (chunk) => out.write(chunk));
    proc.stderr.on('data', (chunk) => out.write(chunk));
    proc.once('exit', () => out.end());
  }
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`the app did not start within ${timeoutMs / 1000} s: ${stderr}`)), timeoutMs);
      proc.stdout.on('data', (chunk) => {
        stdout += chunk;
        const match = /listening (\d+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the app exited (${code ?? signal}) before serving: ${stderr}`));
      });
    });
    return { proc, baseUrl: `http://127.0.0.1:${port}`, startMs: Date.now() - started, stderr: () => stderr };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
}

export function isRunning(child: ChildApp): boolean {
  return child.proc.exitCode === null && child.proc.signalCode === null;
}

/** SIGKILL: no shutdown hook runs, exactly like a crash. Resolves once the process is gone. */
export async function killApp(child: ChildApp): Promise<void> {
  if (!isRunning(child)) return;
  const exited = once(child.proc, 'exit');
  child.proc.kill('SIGKILL');
  await exited;
}

/**
 * What a connector e2e spec runs the service with: its own SQLite file, debug logs, no demo, no rate limit,
 * no scheduled passes (the spec asks for them), and the connector's sync and collection every `loopSeconds`.
 */
export function connectorAppEnv(databasePath: string, loopSeconds: number): Record<string, unknown> {
  return {
    DATABASE_PATH: databasePath,
    LOG_LEVEL: 'debug',
    DEMO_ENABLED: false,
    RATE_LIMIT_MAX: 0,
    SCHEDULER_ENABLED: false,
    CONNECTOR_SYNC_INTERVAL_SECONDS: loopSeconds,
    CONNECTOR_COLLECT_INTERVAL_SECONDS: loopSeconds,
  };
}

/** Seconds since `t` (epoch ms), as a spec's printed figures give them. */
export const secondsSince = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

/** One JSON request; a connection cut by a kill rejects. */
export async function call(child: ChildApp, method: string, path: string, body?: unknown): Promise<CallResult> {
  const res = await fetch(child.baseUrl + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, type: res.headers.get('content-type') ?? '', text };
}

/** Reads the database file directly, as it is on disk (after a kill: what the crash left). */
export async function query<T>(path: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const file = openFile(path);
  try {
    return await file.all<T>(sql, params);
  } finally {
    await file.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One connection to the database file for several reads; close it when done. */
export interface FileReader {
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function openFile(path: string): FileReader {
  if (onPostgres) return openPostgres(path);
  const db = new Sqlite(path);
  db.configure('busyTimeout', 5000);
  return {
    all: <T>(sql: string, params: unknown[] = []) =>
      new Promise<T[]>((resolve, reject) => db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[])))),
    close: () => new Promise<void>((resolve) => db.close(() => resolve())),
  };
}

/** openFile on PostgreSQL: the SQL as the specs write it for SQLite, adapted (postgresSql). */
function openPostgres(path: string): FileReader {
  const client = ensureDatabase(path).then(async (url) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    return c;
  });
  return {
    all: async <T>(sql: string, params: unknown[] = []) => (await (await client).query(postgresSql(sql), params)).rows as T[],
    close: async () => (await client).end(),
  };
}
