import { isLoopback } from './tokens';

export interface ListenDecision {
  allowed: boolean;
  message: string;
}

/** Without tokens the API is open, so it may only listen where no other machine can reach it. */
export function listenDecision(host: string, activeTokens: number): ListenDecision {
  if (activeTokens > 0) {
    return {
      allowed: true,
      message: `Access control on: ${activeTokens} active API token(s); every API call needs "Authorization: Bearer <token>"`,
    };
  }
  if (isLoopback(host)) {
    return {
      allowed: true,
      message:
        'No API token exists, so access control is off and the service listens on loopback only (and answers only to the Host names localhost, 127.0.0.1 and [::1]); create one with `npm run token -- create --role admin` to turn it on',
    };
  }
  return {
    allowed: false,
    message: `HOST=${host} would expose the API beyond this machine without access control: create an API token first (\`npm run token -- create --role admin\`), or listen on 127.0.0.1`,
  };
}

/** The host names a `Host` header may carry in open mode: a page served from any other name (DNS rebinding) is not this machine's user. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The name of a `Host` header without its port, lowercased (`[::1]` keeps its brackets); undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/i.exec(header?.trim() ?? '');
  return match?.[1].toLowerCase();
}

/** `ALLOWED_HOSTS` as names to compare with hostName(): trimmed, lowercased, an IPv6 literal in brackets. */
export function parseAllowedHosts(list: string): Set<string> {
  const names = list
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean)
    .map((h) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h));
  return new Set(names);
}

/**
 * Why a request's `Host` header is refused, or undefined when it is served. Open mode (no token) serves
 * loopback names only; with tokens, a non-empty ALLOWED_HOSTS is the list of names served.
 */
export function hostRefusal(header: string | undefined, open: boolean, allowed: ReadonlySet<string>): string | undefined {
  const name = hostName(header);
  if (open) {
    if (name !== undefined && LOOPBACK_NAMES.has(name)) return undefined;
    return `Without API tokens this service answers only to localhost, 127.0.0.1 or [::1], not to Host ${JSON.stringify((header ?? '').slice(0, 100))}`;
  }
  if (allowed.size === 0 || (name !== undefined && allowed.has(name))) return undefined;
  return `Host ${JSON.stringify((header ?? '').slice(0, 100))} is not one this service answers to (ALLOWED_HOSTS)`;
}
