// How vim25 faults and network failures become ConnectorErrors an operator can act on (the password never in them).
import { ConnectorError, type ConnectorErrorReason } from '../connector';
import type { SoapFaultInfo } from './soap-xml';

// Faults whose meaning for the operator is the same as their family's; vim25 has many subtypes and a fault's
// detail names only the most specific one.
const FAULT_REASONS: [ConnectorErrorReason, string[]][] = [
  ['auth', ['InvalidLogin', 'NoPermission', 'NotAuthenticated', 'InvalidCertificate', 'NoClientCertificate']],
  ['not-found', ['ManagedObjectNotFound', 'NotFound', 'InvalidCollectorVersion']],
  [
    'refused',
    [
      'InvalidState',
      'InvalidHostState',
      'InvalidPowerState',
      'InvalidDatastoreState',
      'InvalidVmState',
      'HostNotConnected',
      'TaskInProgress',
      'MigrationFault',
      'MigrationDisabled',
      'VMotionInterfaceIssue',
      'DisallowedMigrationDeviceAttached',
      'InsufficientResourcesFault',
      'NotEnoughLicenses',
      'CannotMoveVmWithDeltaDisk',
      'VmFaultToleranceIssue',
      'NotSupported',
    ],
  ],
];

export function faultReason(type: string): ConnectorErrorReason {
  for (const [reason, types] of FAULT_REASONS) if (types.includes(type)) return reason;
  return 'other';
}

export const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is vCenter running and listening at that address and port?)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'the host name does not resolve (check the URL and DNS)',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'the connection timed out',
};

/** A SOAP fault as it came, before it is turned into a ConnectorError (NotAuthenticated is retried first). */
export class VimFault extends Error {
  constructor(
    readonly method: string,
    readonly fault: SoapFaultInfo,
    readonly where: string,
  ) {
    super(`${where}: ${method}: ${fault.message || fault.type}`);
  }
}

const ADVICE: Partial<Record<ConnectorErrorReason, string>> = {
  auth: "check the connector's user name and password and the user's vCenter permissions",
};

export function toConnectorError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof VimFault) {
    const { type, message } = error.fault;
    const reason = faultReason(type);
    const text = message && message !== type ? `${message} (${type || 'fault'})` : type || 'fault';
    const advice = ADVICE[reason];
    return new ConnectorError(null, reason, `${error.where}: ${error.method}: ${text}${advice ? `; ${advice}` : ''}`);
  }
  return new ConnectorError(null, 'other', error instanceof Error ? error.message : String(error));
}
