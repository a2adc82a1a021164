// Migrates by running an operator-configured command (virsh, a Proxmox or Xen CLI, a script).
import { expandArgvTemplate, placeholderValues, UnsafeArgumentError, validateArgvTemplate } from './argv-template';
import type { MigrationDriver, MigrationJob, MigrationOutcome, MigrationProgress, VmLocation } from './migration-driver';
import { constants } from 'node:os';
import { withDefaults } from './options';
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
}

export const DEFAULT_COMMAND_DRIVER_OPTIONS: Omit<CommandDriverOptions, 'migrate'> = {
  timeoutSeconds: 3600,
  reconcileTimeoutSeconds: 60,
  killGraceSeconds: 10,
  killSignal: 'SIGTERM',
  transientExitCodes: [75],
  stderrTailBytes: 4096,
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

  constructor(options: Partial<CommandDriverOptions> & Pick<CommandDriverOptions, 'migrate'>) {
    this.options = withDefaults<CommandDriverOptions>({ ...DEFAULT_COMMAND_DRIVER_OPTIONS, migrate: [] }, options);
    validateArgvTemplate(this.options.migrate, 'command.migrate');
    if (this.options.reconcile) validateArgvTemplate(this.options.reconcile, 'command.reconcile');
    for (const key of ['timeoutSeconds', 'reconcileTimeoutSeconds'] as const) {
      if (!(this.options[key] > 0)) throw new Error(`command.${key} must be > 0`);
    }
    if (!(this.options.killGraceSeconds >= 0)) throw new Error('command.killGraceSeconds must be >= 0');
    if (!(this.options.stderrTailBytes > 0)) throw new Error('command.stderrTailBytes must be > 0');
    if (!Object.prototype.hasOwnProperty.call(constants.signals, this.options.killSignal)) {
      throw new Error(`command.killSignal: unknown signal ${this.options.killSignal}`);
    }
  }

  async migrate(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
  ): Promise<MigrationOutcome> {
    try {
      return await this.run(job, signal, onProgress);
    } catch (error) {
      return { status: 'failed', error: `command driver error: ${errorMessage(error)}`, transient: false };
    }
  }

  private async run(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
  ): Promise<MigrationOutcome> {
    if (signal.aborted) return { status: 'cancelled' };
    let argv: string[];
    try {
      argv = expandArgvTemplate(this.options.migrate, placeholderValues(job));
    } catch (error) {
      if (error instanceof UnsafeArgumentError) return { status: 'failed', error: error.message, transient: false };
      throw error;
    }

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

    const run = await runProcess(argv, {
      timeoutMs: this.options.timeoutSeconds * 1000,
      killGraceMs: this.options.killGraceSeconds * 1000,
      killSignal: this.options.killSignal,
      signal,
      stdoutTailBytes: 64 * 1024,
      stderrTailBytes: this.options.stderrTailBytes,
      onLine,
    });
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
    const lines = run.stdoutTail.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
    const host = (lines[lines.length - 1] ?? '').toLowerCase();
    if (host === '') return 'unknown';
    // Host names compare case-insensitively, as DNS does.
    if ([job.target.name, job.target.id].some((name) => name.toLowerCase() === host)) return 'target';
    if ([job.source.name, job.source.id].some((name) => name.toLowerCase() === host)) return 'source';
    return 'unknown';
  }
}

