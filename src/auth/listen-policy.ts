import { isLoopback } from './tokens';

export interface ListenDecision {
  allowed: boolean;
  message: string;
}

/** Without tokens the API is open, so it may only listen where no other machine can reach it. */
export function listenDecision(host: string, activeTokens: number): ListenDecision {
  if (activeTokens > 0) {
    return { allowed: true, message: `Access control on: ${activeTokens} active API token(s); every API call needs "Authorization: Bearer <token>"` };
  }
  if (isLoopback(host)) {
    return {
      allowed: true,
      message: 'No API token exists, so access control is off and the service listens on loopback only; create one with `npm run token -- create --role admin` to turn it on',
    };
  }
  return {
    allowed: false,
    message: `HOST=${host} would expose the API beyond this machine without access control: create an API token first (\`npm run token -- create --role admin\`), or listen on 127.0.0.1`,
  };
}
