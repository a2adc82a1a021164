// TLS for the vim25 client: a certificate pinned by its SHA-256 thumbprint, checked before anything is written.
import { createHash } from 'node:crypto';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { ConnectorError } from '../connector';

export function normalizeThumbprint(thumbprint: string): string {
  const hex = thumbprint.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new ConnectorError(
      null,
      'invalid-settings',
      'the TLS thumbprint must be the SHA-256 of the certificate: 64 hex digits, colons allowed',
    );
  }
  return hex;
}

const colons = (hex: string) => hex.match(/../g)!.join(':');

/** Keep-alive agent whose TLS sockets are handed to HTTP only once the certificate matches the pinned thumbprint. */
export class PinnedAgent extends https.Agent {
  constructor(
    private readonly thumbprint: string,
    options: https.AgentOptions,
  ) {
    super({ ...options, rejectUnauthorized: false });
  }

  override createConnection(options: tls.ConnectionOptions, callback: (error: Error | null, socket?: Duplex) => void): Duplex | undefined {
    // The chain is not checked (a pinned certificate is usually self-signed); the thumbprint is, before the
    // request (and with Login, the password) is written.
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const fail = (error: Error) => {
      socket.removeListener('secureConnect', onSecure);
      callback(error);
    };
    const onSecure = () => {
      socket.removeListener('error', fail);
      const der = socket.getPeerCertificate()?.raw;
      const actual = der ? createHash('sha256').update(der).digest('hex').toUpperCase() : '';
      if (actual !== this.thumbprint) {
        socket.destroy();
        callback(
          Object.assign(
            new Error(
              `the server's certificate (SHA-256 ${actual ? colons(actual) : 'none'}) does not match the pinned thumbprint ` +
                `${colons(this.thumbprint)}; if vCenter's certificate was replaced, check the new one and update the thumbprint`,
            ),
            { code: 'ERR_THUMBPRINT_MISMATCH' },
          ),
        );
        return;
      }
      callback(null, socket);
    };
    socket.once('secureConnect', onSecure);
    socket.once('error', fail);
    return undefined;
  }
}
