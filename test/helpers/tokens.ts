// API tokens made the way an operator makes them: with the CLI on the database file (the API refuses to
// make the first one). The CLI runs as a child process, as `npm run token` does.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import TestAgent from 'supertest/lib/agent';
import { databaseEnv } from './test-database';

const ROOT = join(__dirname, '..', '..');
const REGISTER = join(__dirname, 'ts-cached-register.js');

/** `npm run token -- create --role <role> --name <name>` on `databasePath`; resolves to the printed token. */
export async function createTokenWithCli(
  databasePath: string,
  role: 'viewer' | 'operator' | 'admin',
  name = `${role} from the CLI`,
): Promise<string> {
  const database = await databaseEnv(databasePath);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-r', REGISTER, 'src/auth/token-cli.ts', 'create', '--role', role, '--name', name],
      { cwd: ROOT, env: { ...process.env, DATABASE_PATH: databasePath, ...database }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`the token CLI failed: ${stderr || err.message}`)) : resolve(stdout.trim())),
    );
  });
}

/** A running app notices a token made by the CLI within seconds (it caches the count): waits until it requires one. */
export async function untilTokensRequired(http: TestAgent, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await http.get('/api/v1/clusters')).status !== 401) {
    if (Date.now() > end) throw new Error('the app still serves without a token');
    await new Promise((r) => setTimeout(r, 100));
  }
}
