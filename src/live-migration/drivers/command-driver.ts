// Migrates by running an operator-configured command (virsh, a Proxmox or Xen CLI, a script).
import {
  expandArgvTemplate,
  placeholderRefusal,
  placeholderValues,
  UnsafeArgumentError,
  usedPlaceholders,
  validateArgvTemplate,
  type ArgvPlaceholder,
} from './argv-template';
import type {
  AdoptedEnd,
  AdoptOptions,
  LaunchHooks,
  MigrationDriver,
  MigrationHandle,
  MigrationJob,
  MigrationOutcome,
  MigrationProgress,
  VmLocation,
} from './migration-driver';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { OutputFollower, removeOutput, runDetached, type OutputFiles } from './detached-command';
import { withDefaults } from './options';
import { assertNoShell, hostArgument } from './placeholder-grammar';
import { ProcFs, signalGroup } from './process-identity';
import { runProcess } from './process-runner';
import { emitProgress, errorMessage } from './progress';

export interface CommandDriverOptions {
  /** argv template, e.g. ["virsh", "migrate", "--live", "{vm}", "qemu+ssh://{targetHost}/system"]. */
  migrate: string[];
  /** argv template of a command printing the name (or id) of the host the VM runs on, as its last line. */
  reconcile?: string[];
  timeoutSeconds: number;
  reconcileTimeoutSeconds: number;
  /** Between the polite signal and SIGKILL. */
  killGraceSeconds: number;
  /** Sent to the command's process group on cancel and timeout. virsh aborts its migration job on SIGINT. */
  killSignal: NodeJS.Signals;
  /** Exit codes meaning "try again later" (75 = EX_TEMPFAIL). */
  transientExitCodes: number[];
  stderrTailBytes: number;
  /** Where each running command writes its output (a file per migration): it must outlive the service. */
  outputDir: string;
  /** Templates whose program is a shell are refused unless this is set. */
  allowShell: boolean;
  /** How often output files are read and an adopted command is looked for. */
  pollMs: number;
}

export const DEFAULT_COMMAND_DRIVER_OPTIONS: Omit<CommandDriverOptions, 'migrate'> = {
  timeoutSeconds: 3600,
  reconcileTimeoutSeconds: 60,
  killGraceSeconds: 10,
  killSignal: 'SIGTERM',
  transientExitCodes: [75],
  stderrTailBytes: 4096,
  outputDir: join(tmpdir(), 'drs-migration-output'),
  allowShell: false,
  pollMs: 250,
};

// "progress 42" from a script, or virsh --verbose's "Migration: [ 42 %]".
const PROGRESS_LINE = /^\s*progress\s+(\d+(?:\.\d+)?)\s*%?\s*$/i;
const VIRSH_PROGRESS = /Migration:\s*\[\s*(\d+(?:\.\d+)?)\s*%\s*\]/;
// Optional statistics a wrapper script may print: "downtime-ms 120", "rounds 3", "copied-mib 4200".
const STAT_LINE = /^\s*(downtime-ms|rounds|copied-mib)\s+(\d+(?:\.\d+)?)\s*$/i;

export function parseProgressLine(line: string): number | null {
  const match = PROGRESS_LINE.exec(line) ?? VIRSH_PROGRESS.exec(line);
  if (!match) return null;
  const percent = Number(match[1]);
  return Number.isFinite(percent) ? Math.min(100, percent) : null;
}

export class CommandMigrationDriver implements MigrationDriver {
  readonly name = 'command';
  private readonly options: CommandDriverOptions;
  private readonly procFs: ProcFs;
  private readonly migrateUses: Set<ArgvPlaceholder>;
  private readonly reconcileUses: Set<ArgvPlaceholder>;

  constructor(options: Partial<CommandDriverOptions> & Pick<CommandDriverOptions, 'migrate'>, procFs = new ProcFs()) {
    this.options = withDefaults<CommandDriverOptions>({ ...DEFAULT_COMMAND_DRIVER_OPTIONS, migrate: [] }, options);
    this.procFs = procFs;
    validateArgvTemplate(this.options.migrate, 'command.migrate');
    if (this.options.reconcile) validateArgvTemplate(this.options.reconcile, 'command.reconcile');
    assertNoShell(this.options.migrate, 'command.migrate', this.options.allowShell);
    if (this.options.reconcile) assertNoShell(this.options.reconcile, 'command.reconcile', this.options.allowShell);
    this.migrateUses = usedPlaceholders(this.options.migrate);
    this.reconcileUses = usedPlaceholders(this.options.reconcile);
    if (!(this.options.pollMs > 0)) throw new Error('command.pollMs must be > 0');
    for (const key of ['timeoutSeconds', 'reconcileTimeoutSeconds'] as const) {
      if (!(this.options[key] > 0)) throw new Error(`command.${key} must be > 0`);
    }
    if (!(this.options.killGraceSeconds >= 0)) throw new Error('command.killGraceSeconds must be >= 0');
    if (!(this.options.stderrTailBytes > 0)) throw new Error('command.stderrTailBytes must be > 0');
    if (!Object.prototype.hasOwnProperty.call(constants.signals, this.options.killSignal)) {
      throw new Error(`command.killSignal: unknown signal ${this.options.killSignal}`);
    }
  }

  /** The placeholders the templates use: what the inventory must be able to fill (checked when it is written). */
  get placeholders(): ReadonlySet<ArgvPlaceholder> {
    return new Set([...this.migrateUses, ...this.reconcileUses]);
  }

  async migrate(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    hooks?: LaunchHooks,
  ): Promise<MigrationOutcome> {
    try {
      return await this.run(job, signal, onProgress, hooks);
    } catch (error) {
      return { status: 'failed', error: `command driver error: ${errorMessage(error)}`, transient: false };
    }
  }

  private async run(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    hooks?: LaunchHooks,
  ): Promise<MigrationOutcome> {
    if (signal.aborted) return { status: 'cancelled' };
    // Checked again here although the inventory refuses such names when they are written: rows
    // written before, or by another version, must not reach the command either.
    const refusal = placeholderRefusal(this.migrateUses, job);
    if (refusal) return { status: 'failed', error: `not started: ${refusal}`, transient: false };
    let argv: string[];
    try {
      argv = expandArgvTemplate(this.options.migrate, placeholderValues(job));
    } catch (error) {
      if (error instanceof UnsafeArgumentError) return { status: 'failed', error: error.message, transient: false };
      throw error;
    }

    const progress = this.progressReader(job, onProgress);
    const files = this.outputFiles(job.migrationId);
    const run = await runDetached(argv, {
      files,
      timeoutMs: this.options.timeoutSeconds * 1000,
      killGraceMs: this.options.killGraceSeconds * 1000,
      killSignal: this.options.killSignal,
      signal,
      detach: hooks?.detach,
      onLaunched: hooks?.onLaunched,
      onLine: progress.onLine,
      stderrTailBytes: this.options.stderrTailBytes,
      pollMs: this.options.pollMs,
      procFs: this.procFs,
    });
    if (run.detached) return { status: 'detached' };
    removeOutput(files);
    if (run.launchError) {
      return {
        status: 'failed',
        error: `${argv[0]} was stopped at once: its identity could not be recorded (${run.launchError.message})`,
        transient: true,
      };
    }
    const stats = progress.stats;
    const report = progress.report;
    const memoryMib = job.vm.memoryMib;
    const durationSeconds = run.durationMs / 1000;
    const tail = run.stderrTail.trim();
    const withTail = (message: string) => (tail ? `${message}: ${tail}` : message);

    if (run.spawnError) {
      const transient = run.spawnError.message.includes('EAGAIN');
      return { status: 'failed', error: `could not start ${argv[0]}: ${run.spawnError.message}`, transient, durationSeconds };
    }
    // Exit 0 means the tool moved the VM, even if a cancel or the timeout raced with its end.
    if (run.exitCode === 0) {
      report(100);
      return {
        status: 'succeeded',
        downtimeMs: stats['downtime-ms'] ?? 0,
        rounds: stats.rounds ?? 1,
        copiedMib: stats['copied-mib'] ?? memoryMib,
        durationSeconds,
      };
    }
    if (run.aborted) return { status: 'cancelled' };
    if (run.timedOut) {
      return {
        status: 'failed',
        error: withTail(`${argv[0]} timed out after ${this.options.timeoutSeconds} s and was killed`),
        transient: true,
        durationSeconds,
      };
    }
    if (run.exitSignal) {
      return { status: 'failed', error: withTail(`${argv[0]} was killed by ${run.exitSignal}`), transient: true, durationSeconds };
    }
    const code = run.exitCode ?? -1;
    return {
      status: 'failed',
      error: withTail(`${argv[0]} exited with code ${code}`),
      transient: this.options.transientExitCodes.includes(code),
      durationSeconds,
    };
  }

  /** Runs the reconcile command and matches its last non-empty output line against the two hosts' names and ids. */
  async reconcile(job: MigrationJob): Promise<VmLocation> {
    try {
      return await this.locate(job);
    } catch {
      return 'unknown';
    }
  }

  private async locate(job: MigrationJob): Promise<VmLocation> {
    if (!this.options.reconcile) return 'unknown';
    if (placeholderRefusal(this.reconcileUses, job)) return 'unknown';
    let argv: string[];
    try {
      argv = expandArgvTemplate(this.options.reconcile, placeholderValues(job));
    } catch {
      return 'unknown';
    }
    const run = await runProcess(argv, {
      timeoutMs: this.options.reconcileTimeoutSeconds * 1000,
      killGraceMs: this.options.killGraceSeconds * 1000,
      killSignal: 'SIGTERM',
      stdoutTailBytes: 4096,
      stderrTailBytes: 1024,
    });
    if (run.spawnError || run.timedOut || run.exitCode !== 0) return 'unknown';
    const lines = run.stdoutTail
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '');
    const host = (lines[lines.length - 1] ?? '').toLowerCase();
    if (host === '') return 'unknown';
    // Host names compare case-insensitively, as DNS does.
    const names = (h: MigrationJob['source']) => [h.name, h.id, hostArgument(h) ?? h.name];
    if (names(job.target).some((name) => name.toLowerCase() === host)) return 'target';
    if (names(job.source).some((name) => name.toLowerCase() === host)) return 'source';
    return 'unknown';
  }

  /**
   * A command a previous run of the service started: waits while that very process (pid and start
   * time) runs, relaying the progress it writes; on cancel or past the deadline its group gets
   * killSignal, then SIGKILL. Its exit status cannot be known: it is not our child.
   */
  async adopt(
    job: MigrationJob,
    handle: MigrationHandle,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    { detach, deadlineMs }: AdoptOptions,
  ): Promise<AdoptedEnd> {
    const files = this.outputFiles(job.migrationId);
    const follower = new OutputFollower(files, this.progressReader(job, onProgress).onLine, this.options.stderrTailBytes);
    let stopping: 'cancelled' | 'timed-out' | null = null;
    let killAt = Infinity;
    for (;;) {
      await follower.poll().catch(() => undefined);
      if (!this.procFs.isRunning(handle)) break;
      if (detach.aborted) return { status: 'detached' };
      if (stopping === null && (signal.aborted || (deadlineMs !== null && Date.now() >= deadlineMs))) {
        stopping = signal.aborted ? 'cancelled' : 'timed-out';
        signalGroup(handle.pgid, this.options.killSignal);
        killAt = Date.now() + this.options.killGraceSeconds * 1000;
      }
      if (Date.now() >= killAt) {
        signalGroup(handle.pgid, 'SIGKILL');
        killAt = Infinity;
      }
      const wake = new AbortController();
      const onEvent = () => wake.abort();
      signal.addEventListener('abort', onEvent, { once: true });
      detach.addEventListener('abort', onEvent, { once: true });
      await delay(this.options.pollMs, undefined, { signal: wake.signal }).catch(() => undefined);
      signal.removeEventListener('abort', onEvent);
      detach.removeEventListener('abort', onEvent);
    }
    // Members of its group that ignored the polite signal go with it.
    if (stopping !== null) signalGroup(handle.pgid, 'SIGKILL');
    const output = (await follower.finish().catch(() => '')).trim();
    removeOutput(files);
    return { status: stopping ?? 'ended', output };
  }

  async findLaunched(job: MigrationJob): Promise<MigrationHandle | null> {
    return this.procFs.holding(this.outputFiles(job.migrationId).stdout)[0] ?? null;
  }

  isRunning(handle: MigrationHandle): boolean {
    return this.procFs.isRunning(handle);
  }

  private outputFiles(migrationId: string): OutputFiles {
    const stem = join(this.options.outputDir, migrationId.replace(/[^A-Za-z0-9-]/g, '_'));
    return { stdout: `${stem}.stdout`, stderr: `${stem}.stderr` };
  }

  /** Turns the command's output lines into progress reports and the statistics it may print. */
  private progressReader(job: MigrationJob, onProgress: (progress: MigrationProgress) => void) {
    const startedAt = Date.now();
    const memoryMib = job.vm.memoryMib;
    const stats: { 'downtime-ms'?: number; rounds?: number; 'copied-mib'?: number } = {};
    let lastPercent = -1;
    const report = (percent: number) => {
      const elapsedSeconds = (Date.now() - startedAt) / 1000;
      const copiedMib = (memoryMib * percent) / 100;
      emitProgress(onProgress, {
        percent,
        round: 0,
        copiedMib,
        remainingMib: memoryMib - copiedMib,
        etaSeconds: percent >= 100 ? 0 : percent > 0 ? (elapsedSeconds * (100 - percent)) / percent : null,
      });
    };
    const onLine = (line: string) => {
      const stat = STAT_LINE.exec(line);
      if (stat) {
        stats[stat[1].toLowerCase() as keyof typeof stats] = Number(stat[2]);
        return;
      }
      const parsed = parseProgressLine(line);
      if (parsed === null) return;
      // 100 is kept for a reported success; the tool's "100 %" may precede a failing switch-over.
      const percent = Math.min(99, parsed);
      if (percent <= lastPercent) return;
      lastPercent = percent;
      report(percent);
    };
    return { stats, report, onLine };
  }
}
