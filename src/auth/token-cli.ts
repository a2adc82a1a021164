// npm run token -- create --role operator [--name "ci"] | list | revoke <id>
// Works on the database file directly (DATABASE_PATH), so the first admin token can be made before
// the service ever runs beyond loopback. The token is printed once, on stdout, and nowhere else.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { loadSettings } from '../config/settings';
import { dataSourceOptions, dataSourceSettings } from '../database/data-source-options';
import { DatabaseSettings } from '../database/database.settings';
import { migrate } from '../database/migrate';
import { SecretsSettings } from '../secrets/secrets.settings';
import { loadServiceKey } from '../secrets/service-key';
import { ApiTokenEntity, ROLES, Role } from './api-token.entity';
import { createToken, revokeToken, toTokenView } from './token-store';
import { tokenHmacKey } from './tokens';

const USAGE = `Usage:
  npm run token -- create --role viewer|operator|admin [--name <what it is for>]
  npm run token -- list
  npm run token -- revoke <token id>
The database is DATABASE_PATH (default ./data/drs.sqlite). Tokens are hashed with the service key
(SERVICE_KEY, or the file SERVICE_KEY_FILE, default service.key beside the database), as the service does.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { role: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) fail('A command is needed.');
  // Only the settings the CLI uses: a service setting it has no use for does not stop it.
  const [database, secrets] = loadSettings([DatabaseSettings, SecretsSettings], process.env);
  const source = new DataSource(dataSourceOptions(dataSourceSettings(database)));
  await source.initialize();
  try {
    await migrate(source, { transaction: 'each' });
    if (command === 'create') {
      const role = values.role as Role;
      if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}.`);
      const name = (values.name ?? `${role} token`).trim();
      // eslint-disable-next-line no-control-regex -- control characters are what a token name must not contain
      if (!name || name.length > 200 || /[\x00-\x1f\x7f-\x9f]/.test(name)) fail('--name must be 1–200 printable characters.');
      // The key the service will check the token with: SERVICE_KEY, else its file (created here if the service never ran).
      const serviceKey = loadServiceKey({ ...secrets, DATABASE_PATH: database.DATABASE_PATH });
      const created = await source.transaction((m) => createToken(m, role, name, Date.now(), tokenHmacKey(serviceKey)));
      process.stderr.write(
        `Created ${role} token "${name}" (id ${created.id}), for a service using the key from ${serviceKey.source}. It is shown this once; store it now:\n`,
      );
      process.stdout.write(`${created.token}\n`);
    } else if (command === 'list') {
      const rows = await source.manager.find(ApiTokenEntity, { order: { createdAt: 'ASC' } });
      for (const t of rows.map(toTokenView)) {
        process.stdout.write(
          `${t.id}  ${t.role.padEnd(8)}  ${new Date(t.createdAt).toISOString()}  ${t.revokedAt ? `revoked ${new Date(t.revokedAt).toISOString()}` : 'active '}  ${t.name}\n`,
        );
      }
      if (rows.length === 0) process.stderr.write('No tokens: access control is off (the service listens on loopback only).\n');
    } else if (command === 'revoke') {
      const [id] = rest;
      if (!id) fail('revoke needs a token id (see `npm run token -- list`).');
      const result = await source.transaction((m) => revokeToken(m, id, Date.now()));
      if (!result) fail(`No token has id ${id}.`);
      const { row, revoked } = result;
      process.stderr.write(
        revoked
          ? `Revoked token "${row.name}" (${row.role}); a running service stops accepting it within 10 s.\n`
          : `Token "${row.name}" was already revoked.\n`,
      );
    } else {
      fail(`Unknown command "${command}".`);
    }
  } finally {
    await source.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
