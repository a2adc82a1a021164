// The scale-out benchmark's replicas: the real app in child processes (bench/lib/app-process.ts) on one PostgreSQL
// database the bench creates and drops, and a pg client on that database for the leases and passes.
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(__dirname, '..', 'lib', 'app-process.ts');
/** The suite's caching require hook (a restart loads JavaScript instead of transpiling again), else ts-node. */
const CACHED_REGISTER = join(ROOT, 'test', 'helpers', 'ts-cached-register.js');

export interface Replica {
  name: string;
  baseUrl: string;
  proc: ChildProcess;
  /** CPU time the replica used so far (all its threads), ms. */
  cpuMs(): Promise<number>;
}

/** `url` with its password hidden, for the header. */
export const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

/** The bench's database on the server of `maintenanceUrl`, dropped and created again. */
export async function freshDatabase(maintenanceUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: maintenanceUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(maintenanceUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(maintenanceUrl: string, name: string): Promise<void> {
  const admin = new Client({ connectionString: maintenanceUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function startReplica(name: string, env: Record<string, unknown>, timeoutMs = 180_000): Promise<Replica> {
  const dir = mkdtempSync(join(tmpdir(), `drs-bench-scaleout-${name}-`));
  const register = existsSync(CACHED_REGISTER) ? CACHED_REGISTER : 'ts-node/register/transpile-only';
  const proc = spawn(
    process.execPath,
    ['-r', register, ENTRY, JSON.stringify({ DATABASE_PATH: join(dir, 'drs.sqlite'), REPLICA_NAME: name, ...env })],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, TZ: 'UTC' },
    },
  );
  proc.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  // BENCH_REPLICA_LOG_DIR: each replica's output (its JSON log lines, at BENCH_REPLICA_LOG_LEVEL) in <dir>/<name>.log.
  const logDir = process.env.BENCH_REPLICA_LOG_DIR;
  if (logDir) {
    const log = createWriteStream(join(logDir, `${name}.log`));
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
  }
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not serve within ${timeoutMs / 1000} s: ${stderr}`)), timeoutMs);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited (${code ?? signal}) before serving: ${stderr}`));
    });
  });
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    proc,
    cpuMs: () =>
      new Promise((resolve) => {
        if (!proc.connected) return resolve(NaN);
        const done = (message: { usage?: NodeJS.CpuUsage }) => {
          if (!message?.usage) return;
          proc.off('message', done);
          resolve((message.usage.user + message.usage.system) / 1000);
        };
        proc.on('message', done);
        proc.send('usage');
      }),
  };
}

export const running = (r: Replica) => r.proc.exitCode === null && r.proc.signalCode === null;

/** SIGKILL: no shutdown hook runs, like a crash. */
export async function killReplica(r: Replica): Promise<void> {
  if (!running(r)) return;
  const exited = once(r.proc, 'exit');
  r.proc.kill('SIGKILL');
  await exited;
}

/** A graceful stop (hands its leases back), SIGKILL after 20 s. */
export async function stopReplica(r: Replica): Promise<void> {
  if (!running(r)) return;
  const exited = once(r.proc, 'exit');
  if (r.proc.connected) r.proc.send('shutdown');
  else r.proc.kill('SIGTERM');
  const timer = setTimeout(() => r.proc.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** The database's clock, epoch ms (the clock leases are measured on). */
export const DB_NOW = `(extract(epoch from clock_timestamp()) * 1000)`;

export async function dbNow(db: Client): Promise<number> {
  return Number((await db.query(`SELECT ${DB_NOW} AS now`)).rows[0].now);
}

export interface LeaseRow {
  clusterId: string;
  replicaId: string;
  live: boolean;
}

export async function leases(db: Client): Promise<{ now: number; rows: LeaseRow[] }> {
  const res = await db.query(`SELECT "clusterId", "replicaId", "expiresAt" > ${DB_NOW} AS live, ${DB_NOW} AS now FROM cluster_leases`);
  return {
    now: res.rows.length ? Number(res.rows[0].now) : await dbNow(db),
    rows: res.rows.map((r) => ({ clusterId: r.clusterId, replicaId: r.replicaId, live: r.live })),
  };
}

export interface PassRow {
  clusterId: string;
  trigger: string;
  status: string;
  startedAt: number;
  finishedAt: number | null;
  movesApplied: number;
  notes: string;
}

export async function passes(db: Client): Promise<PassRow[]> {
  const res = await db.query(
    `SELECT "clusterId", trigger, status, "startedAt", "finishedAt", "movesApplied", notes FROM passes ORDER BY "clusterId", "startedAt"`,
  );
  return res.rows.map((r) => ({
    clusterId: r.clusterId,
    trigger: r.trigger,
    status: r.status,
    startedAt: Number(r.startedAt),
    finishedAt: r.finishedAt === null ? null : Number(r.finishedAt),
    movesApplied: Number(r.movesApplied),
    notes: r.notes,
  }));
}

/** When each cluster was created (epoch ms). */
export async function clusterCreation(db: Client): Promise<Map<string, number>> {
  const res = await db.query(`SELECT id, extract(epoch from "createdAt") * 1000 AS at FROM clusters`);
  return new Map(res.rows.map((r) => [r.id as string, Number(r.at)]));
}
