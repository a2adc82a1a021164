// The vsphere connector's settings and credentials: vCenter's SDK URL (HTTPS only: the password goes
// over it), the cluster compute resource by name, and how vCenter's certificate is trusted (a CA file's
// PEM, or a pinned SHA-256 fingerprint for the self-signed certificates vCenter ships with).
import type { FieldProblem } from '../../common/domain-error';
import { ConnectorError } from '../connector';
import { isObject, MAX_TEXT, unknownKeys, type ConnectorKind } from '../connector-config';
import { DEFAULT_VIM_OPTIONS, VimClient } from './vim-client';
import { VimApi } from './vsphere-api';
import { VsphereConnector } from './vsphere-connector';

const SETTINGS = ['url', 'cluster', 'caCertificate', 'certificateSha256', 'migrationTimeLimitSeconds'] as const;
const CREDENTIALS = ['username', 'password'] as const;
const MAX_TIME_LIMIT = 7 * 24 * 3600;
const MAX_PEM = 64 * 1024;

/** "AB:CD:…" or "abcd…": 32 bytes of SHA-256, normalised to lower-case hex without colons. */
export function normaliseSha256(value: string): string | null {
  const hex = value.replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

function checkSettings(settings: unknown): Record<string, unknown> | FieldProblem[] {
  if (!isObject(settings)) {
    return [
      { field: 'settings', rule: 'isObject', message: 'settings must be an object: { "url": "https://vcenter/sdk", "cluster": "<name>" }' },
    ];
  }
  const problems = unknownKeys(settings, SETTINGS, 'settings');
  const problem = (field: string, rule: string, message: string) =>
    problems.push({ field: `settings.${field}`, rule, message: `settings.${field} ${message}` });
  const checked: Record<string, unknown> = {};
  const { url, cluster, caCertificate, certificateSha256, migrationTimeLimitSeconds } = settings;
  let parsed: URL | null = null;
  try {
    parsed = typeof url === 'string' && url.length <= 2048 ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || parsed.protocol !== 'https:' || parsed.username || parsed.password) {
    problem('url', 'isUrl', 'must be vCenter\'s SDK address over HTTPS, without credentials in it, e.g. "https://vcenter.example.com/sdk"');
  } else checked.url = parsed.toString();
  if (typeof cluster !== 'string' || cluster === '' || cluster.length > 200)
    problem('cluster', 'isString', 'must be the name of the cluster in vCenter (1 to 200 characters)');
  else checked.cluster = cluster;
  if (caCertificate !== undefined) {
    if (typeof caCertificate !== 'string' || caCertificate.length > MAX_PEM || !caCertificate.includes('-----BEGIN CERTIFICATE-----')) {
      problem('caCertificate', 'isPem', "must be the PEM text of the CA certificate(s) vCenter's certificate is checked against");
    } else checked.caCertificate = caCertificate;
  }
  if (certificateSha256 !== undefined) {
    const hex = typeof certificateSha256 === 'string' ? normaliseSha256(certificateSha256) : null;
    if (!hex)
      problem('certificateSha256', 'isHash', "must be the SHA-256 fingerprint of vCenter's certificate: 64 hex digits, colons allowed");
    else checked.certificateSha256 = hex;
  }
  if (caCertificate !== undefined && certificateSha256 !== undefined) {
    problem('certificateSha256', 'exclusive', "and settings.caCertificate are two ways to trust vCenter's certificate: give one");
  }
  if (migrationTimeLimitSeconds !== undefined) {
    const value = migrationTimeLimitSeconds;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIME_LIMIT) {
      problem('migrationTimeLimitSeconds', 'isInt', `must be an integer from 1 to ${MAX_TIME_LIMIT}`);
    } else checked.migrationTimeLimitSeconds = value;
  }
  return problems.length > 0 ? problems : checked;
}

function checkCredentials(credentials: unknown): Record<string, string> | FieldProblem[] {
  if (credentials === undefined)
    return [{ field: 'credentials', rule: 'isDefined', message: 'credentials are required: { "username", "password" } of a vCenter user' }];
  if (!isObject(credentials))
    return [{ field: 'credentials', rule: 'isObject', message: 'credentials must be an object: { "username", "password" }' }];
  const problems = unknownKeys(credentials, CREDENTIALS, 'credentials');
  for (const key of CREDENTIALS) {
    const value = credentials[key];
    // Never echoed back: a message about a secret field says what is wrong, not what was sent.
    if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT) {
      problems.push({
        field: `credentials.${key}`,
        rule: 'isString',
        message: `credentials.${key} must be a non-empty string of at most ${MAX_TEXT} characters`,
      });
    }
  }
  return problems.length > 0 ? problems : { username: credentials.username as string, password: credentials.password as string };
}

export const vsphere: ConnectorKind = {
  // Credentials left out of a PUT are kept (checked by the service against what is stored): only a first PUT must bring them.
  check(settings, credentials) {
    const checked = checkSettings(settings);
    const secrets = credentials === undefined ? undefined : checkCredentials(credentials);
    const problems = [...(Array.isArray(checked) ? checked : []), ...(Array.isArray(secrets) ? secrets : [])];
    if (problems.length > 0) return problems;
    return { settings: checked as Record<string, unknown>, ...(secrets ? { credentials: secrets as Record<string, string> } : {}) };
  },
  create(settings, credentials) {
    if (!credentials) {
      throw new ConnectorError(
        null,
        'invalid-settings',
        'no vCenter credentials are stored: PUT the connector again with credentials { username, password }',
      );
    }
    const client = new VimClient({
      ...DEFAULT_VIM_OPTIONS,
      url: settings.url as string,
      username: credentials.username,
      password: credentials.password,
      ...(typeof settings.caCertificate === 'string' ? { caPem: settings.caCertificate } : {}),
      ...(typeof settings.certificateSha256 === 'string' ? { thumbprintSha256: settings.certificateSha256 } : {}),
    });
    const timeLimit = settings.migrationTimeLimitSeconds;
    const connector = new VsphereConnector(
      new VimApi(client),
      settings.cluster as string,
      typeof timeLimit === 'number' ? { timeLimitSeconds: timeLimit } : {},
    );
    return { connector, dispose: () => connector.close() };
  },
};
