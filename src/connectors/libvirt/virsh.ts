// Runs `virsh -c <uri> <command…>` for one host: no shell, a time limit, cancellable, bounded output,
// and failures turned into ConnectorErrors that name the host and say what an operator can do.
import { execFile } from 'node:child_process';
import { ConnectorError, type ConnectorErrorReason } from '../connector';

export interface VirshOptions {
  /** The virsh program (default: `virsh` on the PATH). */
  virshPath: string;
  /** Per call. */
  timeoutMs: number;
  /** Output above this fails the call instead of being cut (a cut table would parse wrong). */
  maxOutputBytes: number;
  /**
   * Extra environment for virsh (e.g. what ssh needs to find a key file for qemu+ssh). Credentials
   * go here or in files, never in argv, which any local user can read in /proc.
   */
  env: Record<string, string>;
}

export const DEFAULT_VIRSH_OPTIONS: VirshOptions = {
  virshPath: 'virsh',
  timeoutMs: 10_000,
  maxOutputBytes: 16 * 1024 * 1024,
  env: {},
};

export interface VirshCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A host's virsh: `run(['nodeinfo'])` resolves stdout or rejects with a ConnectorError naming the host. */
export class Virsh {
  readonly options: VirshOptions;

  constructor(
    readonly host: string,
    readonly uri: string,
    options: Partial<VirshOptions> = {},
  ) {
    this.options = { ...DEFAULT_VIRSH_OPTIONS, ...options, env: { ...DEFAULT_VIRSH_OPTIONS.env, ...options.env } };
  }

  /** The argv of a call, without the program: also what a detached migration client runs. */
  argv(args: readonly string[]): string[] {
    // -q: no informational lines mixed into the output we parse.
    return ['-q', '-c', this.uri, ...args];
  }

  /** The environment virsh runs with: C locale (messages are matched in English), PATH and HOME, and the configured extras. */
  environment(): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
    if (process.env.HOME) base.HOME = process.env.HOME;
    return { ...base, ...this.options.env };
  }

  run(args: readonly string[], call: VirshCallOptions = {}): Promise<string> {
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    const command = args[0] ?? '';
    return new Promise((resolve, reject) => {
      if (call.signal?.aborted) {
        reject(new ConnectorError(this.host, 'other', `${this.host}: virsh ${command} cancelled`));
        return;
      }
      const child = execFile(
        this.options.virshPath,
        this.argv(args),
        {
          env: this.environment(),
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: this.options.maxOutputBytes,
          signal: call.signal,
          encoding: 'utf8',
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          if (!error) {
            resolve(stdout);
            return;
          }
          reject(classifyVirshFailure(this.host, command, { error, stderr, timeoutMs, aborted: call.signal?.aborted ?? false }));
        },
      );
      // virsh asks for a user name and password on stdin when the daemon wants them: answer with EOF
      // at once (it then fails with "authentication failed") instead of waiting for the time limit.
      child.stdin?.end();
    });
  }
}

export interface VirshFailure {
  error: (Error & { code?: string | number | null; killed?: boolean; signal?: NodeJS.Signals | null }) | null;
  stderr: string;
  timeoutMs: number;
  aborted: boolean;
}

const anyOf = (texts: string[]) => new RegExp(texts.map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');

// Matched in this order against virsh's error lines (C locale). Texts seen from libvirt 9 are in fixtures/err-*.txt
// (err-auth-*.txt: a libvirtd with auth_tcp = "sasl", DIGEST-MD5, test/fixtures/libvirt-hosts.sh LIBVIRT_HOSTS_SASL).
const RULES: { reason: ConnectorErrorReason; pattern: RegExp; advice: string }[] = [
  {
    reason: 'auth',
    pattern: /authentication (failed|unavailable)|SASL|Permission denied \(publickey|Host key verification failed|access denied/i,
    advice: "check the credentials and the daemon's auth settings",
  },
  {
    reason: 'unreachable',
    pattern: anyOf([
      'Connection refused',
      'No route to host',
      'Network is unreachable',
      'Unable to resolve address',
      'Name or service not known',
      'Connection reset',
      'Connection timed out',
      'End of file while reading data',
      'Cannot recv data',
      // "packet … bytes received from server too large": something other than libvirtd answered
      'received from server too large',
      'failed to connect to the hypervisor',
    ]),
    advice: 'is libvirtd running and listening there?',
  },
  { reason: 'not-found', pattern: /failed to get domain|Domain not found|no domain with matching/i, advice: '' },
  { reason: 'refused', pattern: /Requested operation is not valid|Operation not supported|Operation not allowed/i, advice: '' },
];

// Causes whose libvirt wording does not tell an operator what to do, in plain words.
const PLAIN_CAUSES: { pattern: RegExp; message: string; advice: string }[] = [
  {
    // virsh had no user name (none configured: it prompted and read end of file), which cyrus-sasl reports in its own terms.
    pattern: /All-whitespace username/i,
    message: 'authentication failed: the host requires a SASL user name and password and none were given',
    advice: "set the connector's credentials",
  },
];

/** The error virsh printed, without its "error: " prefixes; the most specific line last. */
function virshMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    // A wrong SASL password reads "authentication failed: authentication failed": once is enough.
    .map((line) =>
      line
        .replace(/^error:\s*/i, '')
        .trim()
        .replace(/^(.+): \1$/i, '$1'),
    )
    .filter((line) => line !== '' && !/^Please enter your/i.test(line));
  // "failed to connect to the hypervisor" is followed by the actual cause.
  const specific = lines.filter((line) => !/^failed to connect to the hypervisor$/i.test(line));
  return (specific.length > 0 ? specific : lines).join('; ').slice(0, 500);
}

export function classifyVirshFailure(host: string, command: string, failure: VirshFailure): ConnectorError {
  const what = `virsh ${command}`;
  if (failure.aborted) return new ConnectorError(host, 'other', `${host}: ${what} cancelled`);
  const code = failure.error?.code;
  if (code === 'ENOENT') {
    return new ConnectorError(host, 'other', `${host}: virsh is not installed on the service's machine (Debian: libvirt-clients)`);
  }
  if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
    return new ConnectorError(host, 'other', `${host}: ${what} printed more than the output limit`);
  if (failure.error?.killed && failure.error.signal === 'SIGKILL') {
    return new ConnectorError(host, 'timeout', `${host}: ${what} got no answer within ${failure.timeoutMs / 1000} s`);
  }
  const message = virshMessage(failure.stderr) || failure.error?.message || 'failed';
  for (const rule of RULES) {
    if (!rule.pattern.test(failure.stderr)) continue;
    const plain = PLAIN_CAUSES.find((cause) => cause.pattern.test(failure.stderr));
    if (plain) return new ConnectorError(host, rule.reason, `${host}: ${what}: ${plain.message} (${plain.advice})`);
    return new ConnectorError(host, rule.reason, `${host}: ${what}: ${message}${rule.advice ? ` (${rule.advice})` : ''}`);
  }
  return new ConnectorError(host, 'other', `${host}: ${what}: ${message}`);
}
