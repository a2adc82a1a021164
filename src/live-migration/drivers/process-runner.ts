// Runs one external command without a shell, with a timeout, cancellation and bounded output capture.
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface RunProcessOptions {
  timeoutMs: number;
  /** After the polite signal, how long the process group gets before SIGKILL. */
  killGraceMs: number;
  killSignal: NodeJS.Signals;
  signal?: AbortSignal;
  stdoutTailBytes: number;
  stderrTailBytes: number;
  /** Every complete line (split on \n or \r, so "\r"-redrawn progress bars count) of either stream. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunProcessResult {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  timedOut: boolean;
  /** We stopped it because the AbortSignal fired (or never started it, when already aborted). */
  aborted: boolean;
  spawnError?: Error;
  stdoutTail: string;
  stderrTail: string;
  durationMs: number;
}

/** Longest partial line kept while waiting for its end; longer lines are dropped, not buffered. */
const MAX_LINE_CHARS = 4096;
/** How long to wait for the pipes to close after the process exited (a daemonised grandchild may hold them). */
const CLOSE_WAIT_MS = 1000;

export class TailBuffer {
  private buffer = Buffer.alloc(0);
  constructor(private readonly maxBytes: number) {}
  push(chunk: Buffer): void {
    const joined = Buffer.concat([this.buffer, chunk]);
    this.buffer = joined.length > this.maxBytes ? joined.subarray(joined.length - this.maxBytes) : joined;
  }
  text(): string {
    // The cut may fall inside a multi-byte character: drop what it left of it.
    return this.buffer.toString('utf8').replace(/^\uFFFD+/, '');
  }
}

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: Buffer): void {
    const parts = (this.partial + this.decoder.write(chunk)).split(/\r\n|\r|\n/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE_CHARS) this.partial = '';
    for (const line of parts) this.emit(line);
  }
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest !== '') this.emit(rest);
  }
}

export function runProcess(argv: readonly string[], options: RunProcessOptions): Promise<RunProcessResult> {
  const startedAt = Date.now();
  const stdoutTail = new TailBuffer(options.stdoutTailBytes);
  const stderrTail = new TailBuffer(options.stderrTailBytes);
  const result = (extra: Partial<RunProcessResult>): RunProcessResult => ({
    exitCode: null,
    exitSignal: null,
    timedOut: false,
    aborted: false,
    stdoutTail: stdoutTail.text(),
    stderrTail: stderrTail.text(),
    durationMs: Date.now() - startedAt,
    ...extra,
  });
  if (options.signal?.aborted) return Promise.resolve(result({ aborted: true }));

  // Own process group, so a timeout or cancel also reaches what the command started (ssh, sleep…).
  const ownGroup = process.platform !== 'win32';
  let child: ChildProcess;
  try {
    child = spawn(argv[0], argv.slice(1), {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownGroup,
      windowsHide: true,
    });
  } catch (error) {
    return Promise.resolve(result({ spawnError: error as Error }));
  }

  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let aborted = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let spawnError: Error | undefined;
    let escalation: NodeJS.Timeout | undefined;
    let closeWait: NodeJS.Timeout | undefined;

    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    const terminate = () => {
      if (escalation) return;
      signalGroup(options.killSignal);
      // Not cleared when the leader exits: members of its group that ignore the polite signal die too.
      escalation = setTimeout(() => signalGroup('SIGKILL'), options.killGraceMs);
      escalation.unref();
    };
    const timeout = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const lines = {
      stdout: new LineSplitter((line) => options.onLine?.(line, 'stdout')),
      stderr: new LineSplitter((line) => options.onLine?.(line, 'stderr')),
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutTail.push(chunk);
      lines.stdout.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail.push(chunk);
      lines.stderr.push(chunk);
    });

    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(closeWait);
      options.signal?.removeEventListener('abort', onAbort);
      lines.stdout.end();
      lines.stderr.end();
      resolve(result({ exitCode, exitSignal, timedOut, aborted, spawnError }));
    };

    child.on('error', (error) => {
      // Spawn failure (ENOENT, EACCES…); errors from kill() are swallowed in signalGroup.
      spawnError = error;
      settle();
    });
    child.on('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      clearTimeout(timeout);
      closeWait = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle();
      }, CLOSE_WAIT_MS);
    });
    child.on('close', (code, signal) => {
      if (exitCode === null && exitSignal === null) {
        exitCode = code;
        exitSignal = signal;
      }
      settle();
    });
  });
}
