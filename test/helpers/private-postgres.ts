// A PostgreSQL server of the test's own (initdb in a temporary directory, on a free loopback port), from the
// binaries of the Debian package the suite's PostgreSQL run installs: the test may stop and start it (a real
// restart, its sessions terminated and new ones refused meanwhile) without disturbing the specs that share the
// suite's server. As root (CI), the server runs as the `postgres` user, which initdb requires.
import { execFile } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

function binDir(): string {
  const versions = existsSync(ROOT) ? readdirSync(ROOT).filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${ROOT} (Debian package postgresql)`);
  return join(ROOT, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class PrivatePostgres {
  private constructor(
    private readonly dir: string,
    private readonly bin: string,
    readonly port: number,
  ) {}

  /** A fresh server with one database, `drs`, reachable without a password on loopback only. */
  static async start(): Promise<PrivatePostgres> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'drs-pg-'));
    if (process.getuid?.() === 0)
      chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
    const server = new PrivatePostgres(dir, bin, await freePort());
    await server.pg('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await server.up();
    const client = new Client({ connectionString: server.url('postgres') });
    await client.connect();
    await client.query('CREATE DATABASE drs');
    await client.end();
    return server;
  }

  url(database = 'drs'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server and resolves once it accepts connections. */
  up(): Promise<unknown> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c log_lock_waits=on`;
    return this.pg('pg_ctl', ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', 'start']);
  }

  /** Stops it as an operator's restart does (`-m fast`: sessions terminated, transactions rolled back). */
  down(): Promise<unknown> {
    return this.pg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  async close(): Promise<void> {
    await this.down().catch(() => undefined);
    // Kept beside the children's logs when chasing a failure (see CHILD_LOG_DIR in child-app.ts).
    if (process.env.CHILD_LOG_DIR && existsSync(join(this.dir, 'log')))
      copyFileSync(join(this.dir, 'log'), join(process.env.CHILD_LOG_DIR, 'postgres.log'));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pg(tool: string, args: string[]): Promise<unknown> {
    const path = join(this.bin, tool);
    return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', path, ...args]) : run(path, args);
  }
}
