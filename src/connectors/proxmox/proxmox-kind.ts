// The proxmox connector's settings and credentials: the API endpoints of one or more nodes (HTTPS only: the token
// goes over it; any node answers for the cluster), how their certificate is trusted (the cluster CA's PEM, or a pinned
// SHA-256 fingerprint as PVE shows it), whether guests with local disks may be migrated (their disks copied), and an
// API token `user@realm!name` with its secret.
import type { FieldProblem } from '../../common/domain-error';
import { ConnectorError } from '../connector';
import { isObject, MAX_TEXT, unknownKeys, type ConnectorKind } from '../connector-config';
import { normaliseSha256 } from '../vsphere/vsphere-kind';
import { PveClient } from './pve-client';
import { ProxmoxConnector } from './proxmox-connector';

const SETTINGS = ['endpoints', 'caCertificate', 'certificateSha256', 'allowLocalDisks', 'migrationTimeLimitSeconds'] as const;
const CREDENTIALS = ['tokenId', 'secret'] as const;
const MAX_ENDPOINTS = 16;
const MAX_TIME_LIMIT = 7 * 24 * 3600;
const MAX_PEM = 64 * 1024;
/** pve-access-control: `user@realm!tokenid`, the token id starting with a letter. */
const TOKEN_ID = /^[^\s:!@/]{1,64}@[A-Za-z][A-Za-z0-9.\-_]{1,31}![A-Za-z][A-Za-z0-9.\-_]{1,63}$/;

function checkEndpoint(value: unknown): string | null {
  let parsed: URL;
  try {
    if (typeof value !== 'string' || value.length > 2048) return null;
    parsed = new URL(value);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password || parsed.search || parsed.hash) return null;
  return parsed.toString().replace(/\/+$/, '');
}

function checkSettings(settings: unknown): Record<string, unknown> | FieldProblem[] {
  if (!isObject(settings)) {
    return [{ field: 'settings', rule: 'isObject', message: 'settings must be an object: { "endpoints": ["https://pve1:8006"], … }' }];
  }
  const problems = unknownKeys(settings, SETTINGS, 'settings');
  const problem = (field: string, rule: string, message: string) =>
    problems.push({ field: `settings.${field}`, rule, message: `settings.${field} ${message}` });
  const checked: Record<string, unknown> = {};
  const { endpoints, caCertificate, certificateSha256, allowLocalDisks, migrationTimeLimitSeconds } = settings;
  if (!Array.isArray(endpoints) || endpoints.length < 1 || endpoints.length > MAX_ENDPOINTS) {
    problem(
      'endpoints',
      'isArray',
      `must list 1 to ${MAX_ENDPOINTS} API addresses of the cluster's nodes, e.g. ["https://pve1.example.com:8006"]`,
    );
  } else {
    const urls = endpoints.map((e, i) => {
      const url = checkEndpoint(e);
      if (!url) {
        problems.push({
          field: `settings.endpoints.${i}`,
          rule: 'isUrl',
          message: `settings.endpoints.${i} must be a node's API address over HTTPS, without credentials, e.g. "https://pve1.example.com:8006"`,
        });
      }
      return url;
    });
    if (urls.every((u) => u !== null)) {
      if (new Set(urls).size !== urls.length) problem('endpoints', 'arrayUnique', 'must not list an address twice');
      else checked.endpoints = urls;
    }
  }
  if (caCertificate !== undefined) {
    if (typeof caCertificate !== 'string' || caCertificate.length > MAX_PEM || !caCertificate.includes('-----BEGIN CERTIFICATE-----')) {
      problem(
        'caCertificate',
        'isPem',
        "must be the PEM text of the CA certificate the nodes' certificates are checked against (/etc/pve/pve-root-ca.pem)",
      );
    } else checked.caCertificate = caCertificate;
  }
  if (certificateSha256 !== undefined) {
    const hex = typeof certificateSha256 === 'string' ? normaliseSha256(certificateSha256) : null;
    if (!hex)
      problem(
        'certificateSha256',
        'isHash',
        'must be the SHA-256 fingerprint of the certificate as PVE shows it: 64 hex digits, colons allowed',
      );
    else checked.certificateSha256 = hex;
  }
  if (caCertificate !== undefined && certificateSha256 !== undefined) {
    problem('certificateSha256', 'exclusive', "and settings.caCertificate are two ways to trust the nodes' certificate: give one");
  }
  if (caCertificate === undefined && certificateSha256 === undefined) {
    problem(
      'caCertificate',
      'isDefined',
      "or settings.certificateSha256 is required: PVE's certificates are signed by the cluster's own CA, which this service does not trust otherwise",
    );
  }
  if (allowLocalDisks !== undefined) {
    if (typeof allowLocalDisks !== 'boolean') problem('allowLocalDisks', 'isBoolean', 'must be true or false');
    else checked.allowLocalDisks = allowLocalDisks;
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
  if (!isObject(credentials))
    return [
      { field: 'credentials', rule: 'isObject', message: 'credentials must be an object: { "tokenId": "user@realm!name", "secret" }' },
    ];
  const problems = unknownKeys(credentials, CREDENTIALS, 'credentials');
  if (typeof credentials.tokenId !== 'string' || !TOKEN_ID.test(credentials.tokenId)) {
    problems.push({
      field: 'credentials.tokenId',
      rule: 'matches',
      message: 'credentials.tokenId must be an API token id as PVE shows it: user@realm!tokenname, e.g. "drs@pve!scheduler"',
    });
  }
  // Never echoed back: a message about the secret says what is wrong, not what was sent.
  const secret = credentials.secret;
  if (typeof secret !== 'string' || secret === '' || secret.length > MAX_TEXT || /[\s;=]/.test(secret)) {
    problems.push({
      field: 'credentials.secret',
      rule: 'isString',
      message: `credentials.secret must be the token's secret: a non-empty string of at most ${MAX_TEXT} characters without spaces, ";" or "="`,
    });
  }
  return problems.length > 0 ? problems : { tokenId: credentials.tokenId as string, secret: secret as string };
}

export const proxmox: ConnectorKind = {
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
        'no API token is stored: PUT the connector again with credentials { tokenId, secret }',
      );
    }
    const client = new PveClient({
      endpoints: settings.endpoints as string[],
      tokenId: credentials.tokenId,
      secret: credentials.secret,
      ...(typeof settings.caCertificate === 'string' ? { caPem: settings.caCertificate } : {}),
      ...(typeof settings.certificateSha256 === 'string' ? { certificateSha256: settings.certificateSha256 } : {}),
    });
    const timeLimit = settings.migrationTimeLimitSeconds;
    const connector = new ProxmoxConnector(client, {
      allowLocalDisks: settings.allowLocalDisks === true,
      migration: typeof timeLimit === 'number' ? { timeLimitSeconds: timeLimit } : {},
    });
    return { connector, dispose: () => connector.close() };
  },
};
