// What each kind of connector accepts as settings and credentials, checked before anything is stored,
// and how a stored configuration becomes a live Connector. One entry per kind: add a platform here.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FieldProblem } from '../common/domain-error';
import { ProcFs } from '../live-migration/drivers/process-identity';
import { isObject, MAX_TEXT, unknownKeys, type CheckedConfig, type ConnectorKind } from './connector-config';
import { ConnectorError, type ConnectorHost } from './connector';
import { LibvirtConnector, validateHosts } from './libvirt/libvirt-connector';
import { proxmox } from './proxmox/proxmox-kind';
import { vsphere } from './vsphere/vsphere-kind';

export const MAX_CONNECTOR_HOSTS = 1000;

/** validateHosts names fields as `hosts[1].uri`; the API names them from the body's root, `settings.hosts.1.uri`. */
function fieldOfHostError(error: ConnectorError): FieldProblem {
  const match = /^hosts(?:\[(\d+)\]\.(\w+))?/.exec(error.message);
  const field = match?.[1] !== undefined ? `settings.hosts.${match[1]}.${match[2]}` : 'settings.hosts';
  return { field, rule: 'libvirtHosts', message: `settings.${error.message}` };
}

/** Problems, as opposed to the checked value (hosts are objects without a `field`). */
export function isProblems(value: unknown): value is FieldProblem[] {
  return Array.isArray(value) && (value.length === 0 || 'field' in (value[0] as object));
}

const LIBVIRT_HOST_FIELDS = ['name', 'uri', 'migrationAddress'] as const;
const LIBVIRT_HOST_LENGTHS: Record<(typeof LIBVIRT_HOST_FIELDS)[number], number> = { name: 200, uri: 2048, migrationAddress: 253 };
const LIBVIRT_CREDENTIAL_FIELDS = ['username', 'password'] as const;

function checkLibvirtHosts(settings: unknown): ConnectorHost[] | FieldProblem[] {
  if (!isObject(settings))
    return [{ field: 'settings', rule: 'isObject', message: 'settings must be an object: { "hosts": [{ "name", "uri" }] }' }];
  const problems = unknownKeys(settings, ['hosts', ...LIBVIRT_MIGRATION_FIELDS], 'settings');
  const hosts = settings.hosts;
  if (!Array.isArray(hosts))
    return [...problems, { field: 'settings.hosts', rule: 'isArray', message: 'settings.hosts must be a list of hosts' }];
  if (hosts.length > MAX_CONNECTOR_HOSTS) {
    return [
      ...problems,
      { field: 'settings.hosts', rule: 'arrayMaxSize', message: `settings.hosts must list at most ${MAX_CONNECTOR_HOSTS} hosts` },
    ];
  }
  hosts.forEach((host, i) => {
    const where = `settings.hosts.${i}`;
    if (!isObject(host)) {
      problems.push({
        field: where,
        rule: 'isObject',
        message: `${where} must be an object with name, uri and optionally migrationAddress`,
      });
      return;
    }
    problems.push(...unknownKeys(host, LIBVIRT_HOST_FIELDS, where));
    for (const key of LIBVIRT_HOST_FIELDS) {
      const value = host[key];
      if (value === undefined && key === 'migrationAddress') continue;
      if (typeof value !== 'string' || value.length > LIBVIRT_HOST_LENGTHS[key]) {
        problems.push({
          field: `${where}.${key}`,
          rule: 'isString',
          message: `${where}.${key} must be a string of at most ${LIBVIRT_HOST_LENGTHS[key]} characters`,
        });
      }
    }
  });
  if (problems.length > 0) return problems;
  const checked = (hosts as Record<string, string>[]).map(({ name, uri, migrationAddress }) => ({
    name,
    uri,
    ...(migrationAddress !== undefined ? { migrationAddress } : {}),
  }));
  try {
    validateHosts(checked);
  } catch (error) {
    if (error instanceof ConnectorError) return [fieldOfHostError(error)];
    throw error;
  }
  return checked;
}

function checkLibvirtCredentials(credentials: unknown): Record<string, string> | FieldProblem[] {
  if (!isObject(credentials))
    return [{ field: 'credentials', rule: 'isObject', message: 'credentials must be an object: { "username", "password" }' }];
  const problems = unknownKeys(credentials, LIBVIRT_CREDENTIAL_FIELDS, 'credentials');
  for (const key of LIBVIRT_CREDENTIAL_FIELDS) {
    const value = credentials[key];
    // Never echoed back: a message about a secret field says what is wrong, not what was sent.
    if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT || /[\r\n\0]/.test(value)) {
      problems.push({
        field: `credentials.${key}`,
        rule: 'isString',
        message: `credentials.${key} must be a non-empty string of at most ${MAX_TEXT} characters on one line`,
      });
    }
  }
  return problems.length > 0 ? problems : { username: credentials.username as string, password: credentials.password as string };
}

/** A value as GLib's key files (libvirt's auth.conf) read it back: backslashes and the spaces at either end escaped. */
function keyFileValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/^ /, '\\s').replace(/ $/, '\\s');
}

/** libvirt's auth.conf for every host: `authname` for SASL (qemu+tcp, qemu+tls), `username` for the SSH-based transports. */
export function libvirtAuthConf(credentials: Record<string, string>): string {
  const user = keyFileValue(credentials.username);
  return `[credentials-drs]\nauthname=${user}\nusername=${user}\npassword=${keyFileValue(credentials.password)}\n\n[auth-libvirt-default]\ncredentials=drs\n`;
}

const AUTH_DIR_PREFIX = 'drs-libvirt-auth-';
/** `<prefix><pid>-<start time>-XXXXXX`, or `<prefix><pid>-XXXXXX` as named before the start time was added. */
const AUTH_DIR_NAME = new RegExp(`^${AUTH_DIR_PREFIX}(\\d+)-(?:(\\d+)-)?[A-Za-z0-9]{6}$`);
const proc = new ProcFs();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process a folder was named after is gone. A process id alone is reused: a folder named with
 * a start time (from /proc) belongs to the very process /proc still shows under that id and start time.
 */
function isGone(pid: number, startTime: number | undefined): boolean {
  if (startTime === undefined) return !isAlive(pid);
  return !proc.isRunning({ pid, startTime, bootId: null });
}

/** This process as the folders name it: its id, and where /proc knows it, its start time. */
function ownTag(): string {
  const startTime = proc.stat(process.pid)?.startTime;
  return startTime === undefined ? `${process.pid}` : `${process.pid}-${startTime}`;
}

/**
 * Removes the credentials folders (below) of service processes that are gone: one that crashed, or was
 * killed, could not remove its own. Only this user's folders, named with a process that no longer runs.
 * Run at every start of the service and before each new folder is written.
 */
export function removeStaleAuthFiles(parent = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = AUTH_DIR_NAME.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    const startTime = match[2] === undefined ? undefined : Number(match[2]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || !isGone(pid, startTime)) continue;
    const dir = join(parent, name);
    try {
      if (statSync(dir).uid !== process.getuid?.()) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/**
 * libvirt's client reads credentials from the file LIBVIRT_AUTH_FILE names: written here, readable by
 * the service's user only, in a folder of its own named with the process (id and start time), and
 * removed when the connector stops; the folders of processes that died first are removed when the next
 * one is written, and at every start of the service.
 */
export function libvirtAuthFile(credentials: Record<string, string>, parent = tmpdir()): { env: Record<string, string>; dispose(): void } {
  removeStaleAuthFiles(parent);
  const dir = mkdtempSync(join(parent, `${AUTH_DIR_PREFIX}${ownTag()}-`));
  const file = join(dir, 'auth.conf');
  writeFileSync(file, libvirtAuthConf(credentials), { mode: 0o600 });
  return { env: { LIBVIRT_AUTH_FILE: file }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Optional settings of the migrations, with their largest values. */
const LIBVIRT_MIGRATION_FIELDS = ['migrationBandwidthMibPerSecond', 'migrationTimeLimitSeconds'] as const;
const LIBVIRT_MIGRATION_MAX: Record<(typeof LIBVIRT_MIGRATION_FIELDS)[number], number> = {
  migrationBandwidthMibPerSecond: 1_000_000,
  migrationTimeLimitSeconds: 7 * 24 * 3600,
};

function checkLibvirtMigration(settings: unknown): Record<string, number> | FieldProblem[] {
  if (!isObject(settings)) return {};
  const problems: FieldProblem[] = [];
  const checked: Record<string, number> = {};
  for (const key of LIBVIRT_MIGRATION_FIELDS) {
    const value = settings[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > LIBVIRT_MIGRATION_MAX[key]) {
      problems.push({
        field: `settings.${key}`,
        rule: 'isInt',
        message: `settings.${key} must be an integer from 1 to ${LIBVIRT_MIGRATION_MAX[key]}`,
      });
    } else checked[key] = value;
  }
  return problems.length > 0 ? problems : checked;
}

const libvirt: ConnectorKind = {
  check(settings, credentials) {
    const hosts = checkLibvirtHosts(settings);
    const migration = checkLibvirtMigration(settings);
    const secrets = credentials === undefined ? undefined : checkLibvirtCredentials(credentials);
    const problems = [hosts, migration, secrets ?? []].flatMap((part) => (isProblems(part) ? part : []));
    if (problems.length > 0) return problems;
    return { settings: { hosts, ...migration }, ...(secrets && !isProblems(secrets) ? { credentials: secrets } : {}) };
  },
  create(settings, credentials) {
    const auth = credentials ? libvirtAuthFile(credentials) : undefined;
    const bandwidth = settings.migrationBandwidthMibPerSecond;
    const timeLimit = settings.migrationTimeLimitSeconds;
    const connector = new LibvirtConnector(settings.hosts as ConnectorHost[], {
      virsh: { env: auth?.env ?? {} },
      migration: {
        ...(typeof bandwidth === 'number' ? { bandwidthMibPerSecond: bandwidth } : {}),
        ...(typeof timeLimit === 'number' ? { timeLimitSeconds: timeLimit } : {}),
      },
    });
    return {
      connector,
      dispose: async () => {
        await connector.close();
        auth?.dispose();
      },
    };
  },
};

export const CONNECTOR_KINDS: Readonly<Record<string, ConnectorKind>> = { libvirt, vsphere, proxmox };

/** The stored (or to be stored) configuration, checked for its kind: problems name fields such as `kind` or `settings.hosts.1.uri`. */
export function checkConnectorConfig(kind: string, settings: unknown, credentials: unknown): CheckedConfig | FieldProblem[] {
  const entry = Object.prototype.hasOwnProperty.call(CONNECTOR_KINDS, kind) ? CONNECTOR_KINDS[kind] : undefined;
  if (!entry) {
    return [
      {
        field: 'kind',
        rule: 'isIn',
        message: `kind must be one of: ${Object.keys(CONNECTOR_KINDS).join(', ')} (not "${kind.slice(0, 32)}")`,
      },
    ];
  }
  return entry.check(settings, credentials);
}
