// The load benchmark's server: the real app in a child process on a temporary SQLite file, with its CPU time,
// event-loop delays and CPU profile read over IPC.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../lib/boot';

export interface Server {
  baseUrl: string;
  port: number;
  /** CPU time the server process has used so far (all its threads), ms; and its event-loop delays since the last call. */
  usage(): Promise<{ cpuMs: number; loop: { p50: number; p99: number; max: number } }>;
  /** Starts a CPU profile of the server; the returned function stops it and writes it to `file`. */
  profile(file: string): () => Promise<void>;
  stop(): Promise<void>;
}

/** The real app (AppModule.forRoot + configureApp) in a child process, on a temporary SQLite file. */
export async function startServer(env: Record<string, unknown>): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'drs-bench-load-'));
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '-r',
      'ts-node/register/transpile-only',
      join(__dirname, '..', 'lib', 'app-process.ts'),
      JSON.stringify({ DATABASE_PATH: join(dir, 'load.sqlite'), ...env }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, TZ: 'UTC' } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    usage: () =>
      new Promise((resolve) => {
        const done = (message: { usage?: NodeJS.CpuUsage; loop?: { p50: number; p99: number; max: number } }) => {
          if (!message?.usage) return;
          child.off('message', done);
          resolve({ cpuMs: (message.usage.user + message.usage.system) / 1000, loop: message.loop! });
        };
        child.on('message', done);
        child.send('usage');
      }),
    profile: (file) => {
      child.send({ profile: 'start' });
      return () =>
        new Promise<void>((resolve) => {
          const done = (message: { profiled?: string }) => {
            if (message?.profiled !== file) return;
            child.off('message', done);
            resolve();
          };
          child.on('message', done);
          child.send({ profile: 'stop', file });
        });
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.send('shutdown');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      if (process.env.BENCH_KEEP_DB) console.log(`database kept: ${join(dir, 'load.sqlite')}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function must(baseUrl: string, method: string, path: string, body: unknown, status: number) {
  const res = await call(baseUrl, method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}
