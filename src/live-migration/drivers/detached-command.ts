// Runs a migration command so that it survives the service: its own session and process group, its
// output in files (a pipe to a dead service would kill it with SIGPIPE at its next line), and its
// identity handed to the engine to store before the command counts as started.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LineSplitter, TailBuffer } from './process-runner';
import { ProcFs, signalGroup, type ProcessHandle } from './process-identity';

export interface OutputFiles {
  stdout: string;
  stderr: string;
}

/** Reads what a process appends to its output files, line by line, from where it last stopped. */
export class OutputFollower {
  private readonly offsets = { stdout: 0, stderr: 0 };
  private readonly lines: Record<keyof OutputFiles, LineSplitter>;
  private readonly stderrTail: TailBuffer;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly files: OutputFiles,
    onLine: (line: string) => void,
    stderrTailBytes: number,
  ) {
    this.lines = { stdout: new LineSplitter(onLine), stderr: new LineSplitter(onLine) };
    this.stderrTail = new TailBuffer(stderrTailBytes);
  }

  /** Reads what is new; calls never overlap. */
  poll(): Promise<void> {
    this.reading = this.reading.then(async () => {
      for (const stream of ['stdout', 'stderr'] as const) await this.readNew(stream);
    });
    return this.reading;
  }

  /** Reads the rest and flushes a last line without its newline. */
  async finish(): Promise<string> {
    await this.poll();
    this.lines.stdout.end();
    this.lines.stderr.end();
    return this.stderrTail.text();
  }

  private async readNew(stream: keyof OutputFiles): Promise<void> {
    let file;
    try {
      file = await open(this.files[stream], 'r');
    } catch {
      return;
    }
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.offsets[stream]);
        if (bytesRead === 0) return;
        this.offsets[stream] += bytesRead;
        const chunk = Buffer.from(buffer.subarray(0, bytesRead));
        if (stream === 'stderr') this.stderrTail.push(chunk);
        this.lines[stream].push(chunk);
      }
    } finally {
      await file.close();
    }
  }
}

export function removeOutput(files: OutputFiles): void {
  for (const path of [files.stdout, files.stderr]) rmSync(path, { force: true });
}

export interface DetachedRunOptions {
  files: OutputFiles;
  timeoutMs: number;
  killGraceMs: number;
  killSignal: NodeJS.Signals;
  /** Cancel: the command's group gets killSignal, then SIGKILL. */
  signal: AbortSignal;
  /** Shutdown: let the command run on and resolve at once with `detached`. */
  detach?: AbortSignal;
  /** Awaited before the command counts as started; if it rejects, the command is killed. */
  onLaunched?: (handle: ProcessHandle) => Promise<void>;
  onLine: (line: string) => void;
  stderrTailBytes: number;
  pollMs: number;
  procFs: ProcFs;
  /** The command's environment (default: the service's). */
  env?: NodeJS.ProcessEnv;
}

export interface DetachedRunResult {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  detached: boolean;
  spawnError?: Error;
  /** The identity could not be stored: the command was killed before it counted as started. */
  launchError?: Error;
  stderrTail: string;
  durationMs: number;
}

export async function runDetached(argv: readonly string[], options: DetachedRunOptions): Promise<DetachedRunResult> {
  const startedAt = Date.now();
  const result = (extra: Partial<DetachedRunResult>): DetachedRunResult => ({
    exitCode: null,
    exitSignal: null,
    timedOut: false,
    aborted: false,
    detached: false,
    stderrTail: '',
    durationMs: Date.now() - startedAt,
    ...extra,
  });
  if (options.signal.aborted) return result({ aborted: true });
  if (options.detach?.aborted) return result({ detached: true });

  mkdirSync(dirname(options.files.stdout), { recursive: true, mode: 0o700 });
  let child: ChildProcess;
  const fds: number[] = [];
  try {
    fds.push(openSync(options.files.stdout, 'w', 0o600), openSync(options.files.stderr, 'w', 0o600));
    child = spawn(argv[0], argv.slice(1), {
      shell: false,
      detached: true,
      stdio: ['ignore', fds[0], fds[1]],
      windowsHide: true,
      env: options.env,
    });
  } catch (error) {
    return result({ spawnError: error as Error });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    const spawnError = await new Promise<Error>((resolve) => child.once('error', resolve));
    return result({ spawnError });
  }
  // Errors after the spawn come from kill(), which signalGroup handles.
  child.on('error', () => undefined);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );

  // Read at once: until the event loop turns, the child is not reaped, so /proc still has it.
  const handle = options.procFs.identify(pid);
  if (handle && options.onLaunched) {
    try {
      await options.onLaunched(handle);
    } catch (launchError) {
      signalGroup(pid, 'SIGKILL');
      await exited;
      return result({ launchError: launchError as Error });
    }
  }

  const follower = new OutputFollower(options.files, options.onLine, options.stderrTailBytes);
  let timedOut = false;
  let aborted = false;
  let escalation: NodeJS.Timeout | undefined;
  const terminate = () => {
    if (escalation) return;
    signalGroup(pid, options.killSignal);
    // Not cleared when the leader exits: members of its group that ignore the polite signal die too.
    escalation = setTimeout(() => signalGroup(pid, 'SIGKILL'), options.killGraceMs);
    escalation.unref();
  };
  const timeout = setTimeout(
    () => {
      timedOut = true;
      terminate();
    },
    Math.max(0, options.timeoutMs - (Date.now() - startedAt)),
  );
  const onAbort = () => {
    aborted = true;
    terminate();
  };
  let detachNow: () => void = () => undefined;
  const detached = new Promise<void>((resolve) => (detachNow = resolve));
  options.signal.addEventListener('abort', onAbort, { once: true });
  options.detach?.addEventListener('abort', detachNow, { once: true });
  if (options.signal.aborted) onAbort();
  if (options.detach?.aborted) detachNow();
  const poller = setInterval(() => void follower.poll().catch(() => undefined), options.pollMs);
  try {
    const ended = await Promise.race([exited.then(() => 'exited' as const), detached.then(() => 'detached' as const)]);
    if (ended === 'detached' && exit === null) {
      child.removeAllListeners();
      child.on('error', () => undefined);
      child.unref();
      return result({ detached: true });
    }
  } finally {
    clearTimeout(timeout);
    clearInterval(poller);
    options.signal.removeEventListener('abort', onAbort);
    options.detach?.removeEventListener('abort', detachNow);
  }
  const stderrTail = await follower.finish().catch(() => '');
  const { code, signal } = exit ?? { code: null, signal: null };
  return result({ exitCode: code, exitSignal: signal, timedOut, aborted, stderrTail });
}
