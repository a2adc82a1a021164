// Live migration between libvirt hosts: `virsh migrate --live --p2p` run as a detached client (the
// job lives only as long as that client), followed through `domjobinfo` on the source, stopped with
// `domjobabort`, and judged by asking both hosts where the domain runs.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { OutputFollower, removeOutput, runDetached, type OutputFiles } from '../../live-migration/drivers/detached-command';
import type {
  AdoptedEnd,
  AdoptOptions,
  LaunchHooks,
  LibvirtMigrationHandle,
  MigrationDriver,
  MigrationHandle,
  MigrationJob,
  MigrationOutcome,
  MigrationProgress,
  VmLocation,
} from '../../live-migration/drivers/migration-driver';
import { ProcFs, signalGroup } from '../../live-migration/drivers/process-identity';
import { emitProgress, errorMessage } from '../../live-migration/drivers/progress';
import { ConnectorError } from '../connector';
import { activeJob, completedJob, hostView, locateDomain } from './libvirt-host-queries';
import { isIncomingLeftover, jobProgress, migrateArgs } from './migration-decisions';
import type { Virsh } from './virsh';
import { parseUuid } from './virsh-parse';

/** How the driver reaches one host of the cluster. */
export interface LibvirtHostAccess {
  virsh: Virsh;
  /** Host (name or IP) the migration data goes to when this host is the target. */
  migrationAddress: string;
}

export interface LibvirtMigrationOptions {
  /** A migration still running after this is aborted and fails (transient). */
  timeLimitSeconds: number;
  /** How often domjobinfo is read for progress. */
  pollMs: number;
  /** After domjobabort, how long the client gets to exit on its own before SIGINT, then SIGKILL. */
  abortGraceSeconds: number;
  /** Cap passed as `--bandwidth` (MiB/s), so migrations leave room on a shared link; null: none. */
  bandwidthMibPerSecond: number | null;
  /** Where each client writes its output (a file per migration): it must outlive the service. */
  outputDir: string;
}

export const DEFAULT_LIBVIRT_MIGRATION_OPTIONS: LibvirtMigrationOptions = {
  timeLimitSeconds: 3600,
  pollMs: 1000,
  abortGraceSeconds: 15,
  bandwidthMibPerSecond: null,
  outputDir: join(tmpdir(), 'drs-libvirt-migrations'),
};

/** Short calls made while a migration runs: a host that does not answer in this time is asked again later. */
const QUERY_TIMEOUT_MS = 10_000;
/** Progress reads until the first figures come (the job may not have started at the first read): sooner than pollMs. */
const FIRST_PROGRESS_MS = 250;
const STDERR_TAIL_BYTES = 4096;

function isLibvirtHandle(handle: MigrationHandle): handle is LibvirtMigrationHandle {
  return handle.kind === 'libvirt';
}

export class LibvirtMigrationDriver implements MigrationDriver {
  readonly name = 'libvirt';
  private readonly options: LibvirtMigrationOptions;

  /** The time limit, then domjobabort for the grace, then the client is signalled and gets the grace again. */
  get timeLimitMs(): number {
    return (this.options.timeLimitSeconds + this.options.abortGraceSeconds * 2) * 1000;
  }

  constructor(
    private readonly hosts: (hostName: string) => LibvirtHostAccess | undefined,
    options: Partial<LibvirtMigrationOptions> = {},
    private readonly procFs = new ProcFs(),
  ) {
    this.options = { ...DEFAULT_LIBVIRT_MIGRATION_OPTIONS, ...options };
    if (!(this.options.timeLimitSeconds > 0)) throw new ConnectorError(null, 'invalid-settings', 'timeLimitSeconds must be > 0');
    if (!(this.options.pollMs > 0)) throw new ConnectorError(null, 'invalid-settings', 'pollMs must be > 0');
    const bandwidth = this.options.bandwidthMibPerSecond;
    if (bandwidth !== null && !(Number.isInteger(bandwidth) && bandwidth > 0)) {
      throw new ConnectorError(null, 'invalid-settings', 'bandwidthMibPerSecond must be a positive integer');
    }
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
      return { status: 'failed', error: `libvirt driver error: ${errorMessage(error)}`, transient: false };
    }
  }

  private async run(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    hooks?: LaunchHooks,
  ): Promise<MigrationOutcome> {
    if (signal.aborted) return { status: 'cancelled' };
    const source = this.hosts(job.source.name);
    const target = this.hosts(job.target.name);
    const missing = !source ? job.source.name : !target ? job.target.name : null;
    if (!source || !target)
      return { status: 'failed', error: `not started: host ${missing} is not in the connector's settings`, transient: false };
    const domain = job.vm.name;
    // virsh would read a leading "-" as an option.
    // eslint-disable-next-line no-control-regex -- control characters are what a domain name passed to virsh must not contain
    if (domain.startsWith('-') || /[\u0000-\u001f]/.test(domain)) {
      return {
        status: 'failed',
        error: `not started: ${JSON.stringify(domain)} cannot be passed to virsh as a domain name`,
        transient: false,
      };
    }
    let domainUuid: string;
    try {
      domainUuid = parseUuid(await source.virsh.run(['domuuid', domain], { timeoutMs: QUERY_TIMEOUT_MS }));
    } catch (error) {
      const notThere = error instanceof ConnectorError && error.reason === 'not-found';
      return { status: 'failed', error: `not started: ${errorMessage(error)}`, transient: !notThere };
    }

    if (signal.aborted) return { status: 'cancelled' };
    const files = this.outputFiles(job.migrationId);
    const startedAt = Date.now();
    // Our own stop signal for the client: cancel and the time limit first ask libvirt to abort the
    // job (domjobabort), and only signal the client if it does not end by itself.
    const stopClient = new AbortController();
    let cancelled = false;
    let timedOut = false;
    let clientEnded = false;
    // Asked again until the client ends: a client still connecting has no job to abort yet.
    const abortJob = async () => {
      const giveUpAt = Date.now() + this.options.abortGraceSeconds * 1000;
      while (!clientEnded && Date.now() < giveUpAt) {
        await source.virsh.run(['domjobabort', domain], { timeoutMs: QUERY_TIMEOUT_MS }).catch(() => undefined);
        await delay(Math.min(this.options.pollMs, 500));
      }
      if (!clientEnded) stopClient.abort();
    };
    const onCancel = () => {
      if (clientEnded || cancelled) return;
      cancelled = true;
      void abortJob();
    };
    signal.addEventListener('abort', onCancel, { once: true });
    const limit = setTimeout(() => {
      if (clientEnded) return;
      timedOut = true;
      void abortJob();
    }, this.options.timeLimitSeconds * 1000);
    const progress = this.progressPoller(source.virsh, domain, onProgress);
    let run;
    try {
      run = await runDetached(
        [
          source.virsh.options.virshPath,
          ...source.virsh.argv(migrateArgs(domain, target.virsh.uri, target.migrationAddress, this.options.bandwidthMibPerSecond)),
        ],
        {
          files,
          // A backstop only: the time limit above aborts the job properly first.
          timeoutMs: this.timeLimitMs,
          killGraceMs: this.options.abortGraceSeconds * 1000,
          // virsh aborts its migration job on SIGINT.
          killSignal: 'SIGINT',
          signal: stopClient.signal,
          detach: hooks?.detach,
          onLaunched: hooks
            ? (process) =>
                hooks.onLaunched({
                  ...process,
                  kind: 'libvirt',
                  domainUuid,
                  domainName: domain,
                  sourceUri: source.virsh.uri,
                  targetUri: target.virsh.uri,
                })
            : undefined,
          onLine: () => undefined,
          stderrTailBytes: STDERR_TAIL_BYTES,
          pollMs: 250,
          procFs: this.procFs,
          env: source.virsh.environment(),
        },
      );
    } finally {
      clientEnded = true;
      clearTimeout(limit);
      signal.removeEventListener('abort', onCancel);
      progress.stop();
    }
    if (run.detached) return { status: 'detached' };
    removeOutput(files);
    if (run.launchError) {
      // Killing the client does not end a job libvirt already runs (seen with libvirt 9): abort it too.
      await source.virsh.run(['domjobabort', domain], { timeoutMs: QUERY_TIMEOUT_MS }).catch(() => undefined);
      return {
        status: 'failed',
        error: `virsh migrate was stopped at once: its identity could not be recorded (${run.launchError.message})`,
        transient: true,
      };
    }
    const durationSeconds = run.durationMs / 1000;
    if (run.spawnError)
      return { status: 'failed', error: `could not start virsh: ${run.spawnError.message}`, transient: true, durationSeconds };

    const where = await locateDomain(domain, source.virsh, target.virsh);
    if (where.destroyTargetLeftover) await target.virsh.run(['destroy', domain], { timeoutMs: QUERY_TIMEOUT_MS }).catch(() => undefined);
    if (where.location === 'target') {
      const done = await completedJob(target.virsh, domain);
      emitProgress(onProgress, {
        percent: 100,
        round: Math.max(0, (done?.iteration ?? 1) - 1),
        copiedMib: done?.processedMib ?? job.vm.memoryMib,
        remainingMib: 0,
        etaSeconds: 0,
      });
      return {
        status: 'succeeded',
        downtimeMs: done?.totalDowntimeMs ?? 0,
        rounds: done?.iteration ?? 1,
        copiedMib: done?.processedMib ?? job.vm.memoryMib,
        durationSeconds: done?.elapsedMs !== undefined ? done.elapsedMs / 1000 : (Date.now() - startedAt) / 1000,
      };
    }
    const stderr = run.stderrTail
      .replace(/^error:\s*/gim, '')
      .trim()
      .replace(/\s*\n\s*/g, '; ');
    if (where.location === 'unknown') {
      // Not transient: a retry could start a second migration of a domain that may have moved.
      return {
        status: 'failed',
        error: `virsh migrate ended (${stderr || `exit ${run.exitCode}`}) but ${where.why}`,
        transient: false,
        durationSeconds,
      };
    }
    if (cancelled) return { status: 'cancelled' };
    if (timedOut) {
      return {
        status: 'failed',
        error: `did not finish within ${this.options.timeLimitSeconds} s and was aborted; the VM stays on its source`,
        transient: true,
        durationSeconds,
      };
    }
    const notFound = /failed to get domain|Domain not found/i.test(stderr);
    return {
      status: 'failed',
      error: `virsh migrate failed: ${stderr || `exit code ${run.exitCode ?? run.exitSignal}`}`,
      transient: !notFound,
      durationSeconds,
    };
  }

  /**
   * Reads domjobinfo on the source every quarter of a second until the job's first figures come (a small guest
   * migrates in a second or two, and the job may not have started at the first read), then every pollMs; calls
   * never overlap.
   */
  private progressPoller(virsh: Virsh, domain: string, onProgress: (progress: MigrationProgress) => void) {
    let percent = 0;
    let stopped = false;
    let seen = false;
    const tick = async () => {
      while (!stopped) {
        await delay(seen ? this.options.pollMs : Math.min(FIRST_PROGRESS_MS, this.options.pollMs));
        if (stopped) return;
        const job = await activeJob(virsh, domain);
        const progress = job && !stopped ? jobProgress(job, percent) : null;
        if (progress) {
          seen = true;
          percent = progress.percent;
          emitProgress(onProgress, progress);
        }
      }
    };
    void tick();
    return { stop: () => (stopped = true) };
  }

  /** Where the VM of an interrupted migration is; destroys the paused leftover on the target when the source still runs it. */
  async reconcile(job: MigrationJob): Promise<VmLocation> {
    const source = this.hosts(job.source.name);
    const target = this.hosts(job.target.name);
    if (!source || !target) return 'unknown';
    try {
      const decision = await locateDomain(job.vm.name, source.virsh, target.virsh);
      if (!decision.destroyTargetLeftover) return decision.location;
      try {
        await target.virsh.run(['destroy', job.vm.name], { timeoutMs: QUERY_TIMEOUT_MS });
      } catch {
        // Gone meanwhile (libvirt tears the incoming domain down itself once the source has aborted the job) is fine;
        // a leftover still there would block the next migration to that host.
        const now = await hostView(target.virsh, job.vm.name);
        if (now.kind === 'unknown' || isIncomingLeftover(now)) return 'unknown';
      }
      return decision.location;
    } catch {
      return 'unknown';
    }
  }

  /**
   * A migration a previous run of the service started: waits while its client runs or a job is
   * active on the source, relaying progress; on cancel or past the deadline aborts the job first.
   */
  async adopt(
    job: MigrationJob,
    handle: MigrationHandle,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    { detach, deadlineMs }: AdoptOptions,
  ): Promise<AdoptedEnd> {
    const source = this.hosts(job.source.name);
    const domain = isLibvirtHandle(handle) ? handle.domainName : job.vm.name;
    const files = this.outputFiles(job.migrationId);
    const follower = new OutputFollower(files, () => undefined, STDERR_TAIL_BYTES);
    let stopping: 'cancelled' | 'timed-out' | null = null;
    let interruptAt = Infinity;
    let killAt = Infinity;
    let percent = 0;
    for (;;) {
      const clientRuns = handle.pid > 0 && this.procFs.isRunning(handle);
      const job = source ? await activeJob(source.virsh, domain) : null;
      const jobRuns = job?.type === 'Unbounded';
      if (!clientRuns && !jobRuns) break;
      if (detach.aborted) return { status: 'detached' };
      const progress = job && jobProgress(job, percent);
      if (progress) {
        percent = progress.percent;
        emitProgress(onProgress, progress);
      }
      if (stopping === null && (signal.aborted || (deadlineMs !== null && Date.now() >= deadlineMs))) {
        stopping = signal.aborted ? 'cancelled' : 'timed-out';
        if (source) await source.virsh.run(['domjobabort', domain], { timeoutMs: QUERY_TIMEOUT_MS }).catch(() => undefined);
        interruptAt = Date.now() + this.options.abortGraceSeconds * 1000;
      }
      if (clientRuns && Date.now() >= interruptAt) {
        signalGroup(handle.pgid, 'SIGINT');
        interruptAt = Infinity;
        killAt = Date.now() + this.options.abortGraceSeconds * 1000;
      }
      if (clientRuns && Date.now() >= killAt) {
        signalGroup(handle.pgid, 'SIGKILL');
        killAt = Infinity;
      }
      await this.pause(signal, detach);
    }
    const output = (await follower.finish().catch(() => '')).trim();
    removeOutput(files);
    return { status: stopping ?? 'ended', output };
  }

  /** The client a crash left before its handle was stored: a process holding this migration's output file. */
  async findLaunched(job: MigrationJob): Promise<MigrationHandle | null> {
    const process = this.procFs.holding(this.outputFiles(job.migrationId).stdout)[0];
    if (!process) return null;
    const source = this.hosts(job.source.name);
    const target = this.hosts(job.target.name);
    if (!source || !target) return process;
    const domainUuid = await source.virsh
      .run(['domuuid', job.vm.name], { timeoutMs: QUERY_TIMEOUT_MS })
      .then(parseUuid)
      .catch(() => null);
    return { ...process, kind: 'libvirt', domainUuid, domainName: job.vm.name, sourceUri: source.virsh.uri, targetUri: target.virsh.uri };
  }

  private async pause(signal: AbortSignal, detach: AbortSignal): Promise<void> {
    await delay(this.options.pollMs, undefined, { signal: AbortSignal.any([signal, detach]) }).catch(() => undefined);
  }

  private outputFiles(migrationId: string): OutputFiles {
    const stem = join(this.options.outputDir, migrationId.replace(/[^A-Za-z0-9-]/g, '_'));
    return { stdout: `${stem}.stdout`, stderr: `${stem}.stderr` };
  }
}
