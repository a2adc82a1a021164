// The Proxmox VE API over HTTPS with an API token: any node of the cluster answers for all of it, so several
// endpoints are tried in turn (one that refuses or does not answer is skipped for a while), the server's certificate
// is checked against a CA or a pinned SHA-256 fingerprint before the token is sent, and every failure becomes a
// ConnectorError an operator can act on. The token's secret never appears in a message.
import { createHash } from 'node:crypto';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { ConnectorError } from '../connector';
import { missingPrivilege } from './pve-parse';

export interface PveClientOptions {
  endpoints: string[];
  /** `user@realm!tokenname` */
  tokenId: string;
  secret: string;
  caPem?: string;
  /** Lower-case hex without colons. */
  certificateSha256?: string;
  /** Per call. */
  timeoutMs: number;
  /** How long an endpoint that refused or did not answer is passed over. */
  skipMs: number;
  /** Calls at once, over all endpoints. */
  concurrency: number;
}

export const DEFAULT_PVE_CLIENT_OPTIONS = { timeoutMs: 15_000, skipMs: 30_000, concurrency: 8 };

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type Params = Record<string, string | number | boolean | undefined>;

const colons = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');

/** A keep-alive agent whose TLS sockets reach HTTP only once the certificate matches the pinned fingerprint. */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly sha256: string,
    options: https.AgentOptions,
  ) {
    super({ ...options, rejectUnauthorized: false });
  }

  override createConnection(options: tls.ConnectionOptions, callback: (error: Error | null, socket?: Duplex) => void): Duplex | undefined {
    // PVE's certificates are self-signed by the cluster's CA: the chain is not checked, the fingerprint is, before the token goes out.
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const fail = (error: Error) => {
      socket.removeListener('secureConnect', onSecure);
      callback(error);
    };
    const onSecure = () => {
      socket.removeListener('error', fail);
      const der = socket.getPeerCertificate()?.raw;
      const actual = der ? createHash('sha256').update(der).digest('hex') : '';
      if (actual !== this.sha256) {
        socket.destroy();
        callback(
          Object.assign(
            new Error(
              `the certificate (SHA-256 ${actual ? colons(actual) : 'none'}) is not the pinned one (${colons(this.sha256)}); ` +
                "if the node's certificate was replaced, check the new one and update settings.certificateSha256",
            ),
            { code: 'ERR_FINGERPRINT_MISMATCH' },
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

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved now',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'the connection timed out',
};

/** A failure of the endpoint itself (nothing reached PVE's API, or it did not answer): the next endpoint is tried. */
class EndpointFailure extends Error {
  constructor(
    message: string,
    /** Whether the request may have been received (a timeout): a POST is then not sent again elsewhere. */
    readonly maybeReceived: boolean,
    readonly reason: 'unreachable' | 'timeout',
  ) {
    super(message);
  }
}

export class PveClient {
  readonly options: PveClientOptions;
  private readonly endpoints: URL[];
  private readonly agent: https.Agent;
  /** Endpoint index → epoch ms until which it is passed over. */
  private readonly skipUntil = new Map<number, number>();
  /** The endpoint that answered last: tried first. */
  private preferred = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Calls made (for the benchmark's baseline). */
  calls = 0;

  constructor(options: Partial<PveClientOptions> & Pick<PveClientOptions, 'endpoints' | 'tokenId' | 'secret'>) {
    this.options = { ...DEFAULT_PVE_CLIENT_OPTIONS, ...options };
    if (this.options.endpoints.length === 0) throw new ConnectorError(null, 'invalid-settings', 'no Proxmox VE endpoint is configured');
    this.endpoints = this.options.endpoints.map((e) => new URL(e));
    const keepAlive = { keepAlive: true, maxSockets: this.options.concurrency };
    this.agent = this.options.certificateSha256
      ? new PinnedAgent(this.options.certificateSha256.replace(/:/g, '').toLowerCase(), keepAlive)
      : new https.Agent({ ...keepAlive, ca: this.options.caPem, rejectUnauthorized: true });
  }

  get<T = unknown>(path: string, params?: Params, call?: CallOptions): Promise<T> {
    return this.call<T>('GET', path, params, call);
  }

  post<T = unknown>(path: string, params?: Params, call?: CallOptions): Promise<T> {
    return this.call<T>('POST', path, params, call);
  }

  delete<T = unknown>(path: string, params?: Params, call?: CallOptions): Promise<T> {
    return this.call<T>('DELETE', path, params, call);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Endpoints in the order they are tried: the last that answered, then the others, those passed over last of all. */
  private order(): number[] {
    const now = Date.now();
    const all = this.endpoints.map((_, i) => (this.preferred + i) % this.endpoints.length);
    const fresh = all.filter((i) => (this.skipUntil.get(i) ?? 0) <= now);
    const skipped = all.filter((i) => (this.skipUntil.get(i) ?? 0) > now);
    return [...fresh, ...skipped];
  }

  private async call<T>(method: string, path: string, params: Params = {}, call: CallOptions = {}): Promise<T> {
    await this.acquire();
    try {
      const failures: string[] = [];
      let timedOut = false;
      for (const index of this.order()) {
        if (call.signal?.aborted) throw new ConnectorError(null, 'other', `${method} ${path} cancelled`);
        try {
          const data = await this.once<T>(index, method, path, params, call);
          this.preferred = index;
          this.skipUntil.delete(index);
          return data;
        } catch (error) {
          if (!(error instanceof EndpointFailure)) throw error;
          this.skipUntil.set(index, Date.now() + this.options.skipMs);
          failures.push(`${this.endpoints[index].host}: ${error.message}`);
          timedOut ||= error.reason === 'timeout';
          // A POST that may have arrived is not sent twice: a second migration would be started.
          if (method === 'POST' && error.maybeReceived) break;
        }
      }
      throw new ConnectorError(
        null,
        timedOut ? 'timeout' : 'unreachable',
        `no Proxmox VE endpoint answered ${method} ${path} (${failures.join('; ')})`,
      );
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private once<T>(index: number, method: string, path: string, params: Params, call: CallOptions): Promise<T> {
    const endpoint = this.endpoints[index];
    const form = new URLSearchParams(
      Object.entries(params).flatMap(([k, v]): Array<[string, string]> =>
        v === undefined ? [] : [[k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]],
      ),
    ).toString();
    const withBody = method === 'POST' || method === 'PUT';
    const url = new URL(`${endpoint.pathname.replace(/\/+$/, '')}/api2/json${path}${!withBody && form ? `?${form}` : ''}`, endpoint);
    const headers: Record<string, string> = {
      Authorization: `PVEAPIToken=${this.options.tokenId}=${this.options.secret}`,
      'User-Agent': 'drs-scheduler',
    };
    if (withBody) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(form));
    }
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    this.calls++;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let sent = false;
      const finish = (error: Error | null, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        call.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value as T);
      };
      const request = https.request(url, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => finish(new EndpointFailure(describe(error), true, 'unreachable')));
        response.on('end', () => {
          try {
            finish(null, this.answer<T>(endpoint, method, path, response.statusCode ?? 0, response.statusMessage ?? '', chunks));
          } catch (error) {
            finish(error as Error);
          }
        });
      });
      // Once the request is flushed, PVE may have it: a POST is then not sent again to another endpoint.
      request.on('finish', () => (sent = true));
      const timer = setTimeout(() => {
        request.destroy();
        finish(new EndpointFailure(`no answer within ${timeoutMs / 1000} s`, true, 'timeout'));
      }, timeoutMs);
      const onAbort = () => {
        request.destroy();
        finish(new ConnectorError(null, 'other', `${method} ${path} cancelled`));
      };
      call.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (
          error.code === 'ERR_FINGERPRINT_MISMATCH' ||
          /certificate|self[- ]signed|CERT_|issuer/i.test(`${error.code} ${error.message}`)
        ) {
          // The wrong certificate on one node may be the right one on none: said as such, not as "unreachable".
          finish(new ConnectorError(null, 'auth', `${endpoint.host}: the TLS certificate was not accepted: ${error.message}`));
          return;
        }
        finish(new EndpointFailure(describe(error), sent && error.code !== 'ECONNREFUSED', 'unreachable'));
      });
      request.end(withBody ? form : undefined);
    });
  }

  private answer<T>(endpoint: URL, method: string, path: string, status: number, statusText: string, chunks: Buffer[]): T {
    const text = Buffer.concat(chunks).toString('utf8');
    let body: { data?: unknown; message?: string; errors?: Record<string, string>; total?: number } | undefined;
    try {
      body = text ? (JSON.parse(text) as typeof body) : undefined;
    } catch {
      body = undefined;
    }
    if (status === 200) {
      if (!body) throw new ConnectorError(null, 'other', `${endpoint.host}: ${method} ${path} answered something that is not JSON`);
      return (body.total !== undefined ? { data: body.data, total: body.total } : body.data) as T;
    }
    const message = (body?.message ?? statusText).trim() || `HTTP ${status}`;
    const what = `${method} ${path}`;
    if (status === 401)
      throw new ConnectorError(
        null,
        'auth',
        `${endpoint.host}: the API token was refused (${statusText.trim() || '401'}): check the token id and secret, and that the token has not expired`,
      );
    if (status === 403) {
      const missing = missingPrivilege(message) ?? missingPrivilege(statusText);
      throw new ConnectorError(
        null,
        'auth',
        missing ? `the API token lacks the privilege ${missing} (${what})` : `the API token may not ${what}: ${message}`,
      );
    }
    // pveproxy could not reach the node the call is about (proxied to it): that node is unreachable, not the endpoint.
    if (status === 595) throw new ConnectorError(proxiedNode(path), 'unreachable', `${proxiedNode(path) ?? endpoint.host}: ${message}`);
    if (status === 400) {
      const details = body?.errors ? Object.entries(body.errors).map(([k, v]) => `${k}: ${String(v).trim()}`) : [];
      throw new ConnectorError(null, 'refused', `${what} refused: ${message}${details.length ? ` (${details.join('; ')})` : ''}`);
    }
    if (/does not exist|no such|can't open task log/i.test(message)) throw new ConnectorError(null, 'not-found', `${what}: ${message}`);
    // 501 and the like: the endpoint's API is not the one expected (an older PVE); 500: PVE refused.
    throw new ConnectorError(null, status === 500 ? 'refused' : 'other', `${what} failed (${status}): ${message}`);
  }
}

function describe(error: NodeJS.ErrnoException): string {
  return (error.code && NETWORK[error.code]) ?? error.message;
}

/** `/nodes/pve2/...` → pve2. */
function proxiedNode(path: string): string | null {
  return /^\/nodes\/([^/]+)/.exec(path)?.[1] ?? null;
}
