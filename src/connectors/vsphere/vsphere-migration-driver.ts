// vMotion through vCenter: RelocateVM_Task to the target host (and the cluster's root pool), followed
// by reading the task, stopped with CancelTask. The task lives in vCenter, not in this process, so its
// reference is the handle a restarted service adopts; where the VM runs decides every outcome.
import { setTimeout as delay } from 'node:timers/promises';
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
  VsphereMigrationHandle,
} from '../../live-migration/drivers/migration-driver';
import { anySignal, emitProgress, errorMessage } from '../../live-migration/drivers/progress';
import { ConnectorError } from '../connector';
import type { TaskInfo } from './vim-parse';
import { balancedBy, refKey, type ClusterView, type MoRef, type VsphereApi } from './vsphere-api';

export interface VsphereMigrationOptions {
  /** A task still running after this is cancelled and the migration fails (transient). */
  timeLimitSeconds: number;
  /** How often the task is read. */
  pollMs: number;
  /** After CancelTask, how long the task gets to end before the attempt is given up on. */
  cancelGraceSeconds: number;
}

export const DEFAULT_VSPHERE_MIGRATION_OPTIONS: VsphereMigrationOptions = { timeLimitSeconds: 3600, pollMs: 1000, cancelGraceSeconds: 60 };

/** How the driver reads the cluster: the connector's view, refreshed. */
export interface ClusterReader {
  read(signal?: AbortSignal): Promise<ClusterView>;
}

type Followed =
  | { status: 'success' }
  | { status: 'error'; error: string }
  | { status: 'cancelled' }
  | { status: 'timed-out' }
  | { status: 'detached' }
  | { status: 'gone'; error: string };

const TASK: MoRef['type'] = 'Task';

/** Faults that another try will not cure: the VM or the target cannot do it. */
const PERMANENT =
  /incompatib|not compatible|not supported|NotSupported|InvalidArgument|DisallowedMigrationDeviceAttached|VmConfigIncompatible/i;

export class VsphereMigrationDriver implements MigrationDriver {
  readonly name = 'vsphere';
  readonly timeLimitMs: number;
  private readonly options: VsphereMigrationOptions;

  constructor(
    private readonly api: VsphereApi,
    private readonly cluster: ClusterReader,
    options: Partial<VsphereMigrationOptions> = {},
  ) {
    this.options = { ...DEFAULT_VSPHERE_MIGRATION_OPTIONS, ...options };
    this.timeLimitMs = (this.options.timeLimitSeconds + this.options.cancelGraceSeconds) * 1000;
  }

  async migrate(
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    hooks?: LaunchHooks,
  ): Promise<MigrationOutcome> {
    const started = Date.now();
    const elapsed = () => (Date.now() - started) / 1000;
    let view: ClusterView;
    try {
      view = await this.cluster.read(signal);
    } catch (error) {
      return { status: 'failed', error: `vCenter could not be read: ${errorMessage(error)}`, transient: true };
    }
    const drs = balancedBy(view.cluster);
    if (drs) return { status: 'failed', error: `${drs}: vSphere moves its VMs, this service does not`, transient: false };
    const vm = view.inventory.vms.find((v) => v.name === job.vm.name);
    const target = view.inventory.hosts.find((h) => h.name === job.target.name);
    if (!vm) return { status: 'failed', error: `cluster "${view.cluster.name}" has no VM named "${job.vm.name}"`, transient: false };
    if (!target)
      return { status: 'failed', error: `cluster "${view.cluster.name}" has no host named "${job.target.name}"`, transient: false };
    if (signal.aborted) return { status: 'cancelled' };

    let task: MoRef;
    try {
      task = await this.api.relocateVm(vm.ref, target.ref, view.inventory.rootPool ?? undefined);
    } catch (error) {
      const message = errorMessage(error);
      const transient = !(error instanceof ConnectorError && error.reason === 'refused' && PERMANENT.test(message));
      return { status: 'failed', error: `RelocateVM_Task refused: ${message}`, transient };
    }
    const handle: VsphereMigrationHandle = {
      kind: 'vsphere',
      pid: 0,
      startTime: 0,
      pgid: 0,
      bootId: null,
      task: task.value,
      vm: vm.ref.value,
      targetHost: target.ref.value,
    };
    if (hooks) {
      try {
        await hooks.onLaunched(handle);
      } catch (error) {
        await this.api.cancelTask(task).catch(() => undefined);
        return { status: 'failed', error: `the migration's handle could not be stored: ${errorMessage(error)}`, transient: true };
      }
    }
    const deadline = started + this.options.timeLimitSeconds * 1000;
    const end = await this.follow(task, job, signal, onProgress, hooks?.detach, deadline);
    switch (end.status) {
      case 'detached':
        return { status: 'detached' };
      case 'success': {
        const where = await this.whereIs(job).catch((): VmLocation => 'unknown');
        if (where === 'target')
          return { status: 'succeeded', downtimeMs: 0, rounds: 1, copiedMib: job.vm.memoryMib, durationSeconds: elapsed() };
        return {
          status: 'failed',
          error: `the task succeeded but vCenter shows the VM ${where === 'source' ? 'still on its source' : 'on no known host'}`,
          transient: true,
        };
      }
      case 'cancelled':
        // A task that finished before the cancel reached it has moved the VM: that is what counts.
        return (await this.whereIs(job).catch((): VmLocation => 'unknown')) === 'target'
          ? { status: 'succeeded', downtimeMs: 0, rounds: 1, copiedMib: job.vm.memoryMib, durationSeconds: elapsed() }
          : { status: 'cancelled' };
      case 'timed-out':
        return {
          status: 'failed',
          error: `vMotion still running after ${this.options.timeLimitSeconds} s: cancelled`,
          transient: true,
          durationSeconds: elapsed(),
        };
      case 'error':
        return {
          status: 'failed',
          error: `vMotion failed: ${end.error}`,
          transient: !PERMANENT.test(end.error),
          durationSeconds: elapsed(),
        };
      case 'gone':
        return (await this.whereIs(job).catch((): VmLocation => 'unknown')) === 'target'
          ? { status: 'succeeded', downtimeMs: 0, rounds: 1, copiedMib: job.vm.memoryMib, durationSeconds: elapsed() }
          : { status: 'failed', error: end.error, transient: true, durationSeconds: elapsed() };
    }
  }

  async reconcile(job: MigrationJob): Promise<VmLocation> {
    return this.whereIs(job);
  }

  async adopt(
    job: MigrationJob,
    handle: MigrationHandle,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    { detach, deadlineMs }: AdoptOptions,
  ): Promise<AdoptedEnd> {
    if (handle.kind !== 'vsphere') return { status: 'ended', output: `not a vCenter task: ${handle.kind}` };
    const end = await this.follow({ type: TASK, value: handle.task }, job, signal, onProgress, detach, deadlineMs ?? Infinity);
    switch (end.status) {
      case 'detached':
        return { status: 'detached' };
      case 'cancelled':
        return { status: 'cancelled', output: `task ${handle.task} cancelled` };
      case 'timed-out':
        return { status: 'timed-out', output: `task ${handle.task} cancelled at the time limit` };
      case 'success':
        return { status: 'ended', output: `task ${handle.task} succeeded` };
      case 'error':
      case 'gone':
        return { status: 'ended', output: `task ${handle.task}: ${end.error}` };
    }
  }

  /** A relocation of the VM a crash left running before its handle was stored. */
  async findLaunched(job: MigrationJob): Promise<MigrationHandle | null> {
    const view = await this.cluster.read();
    const vm = view.inventory.vms.find((v) => v.name === job.vm.name);
    const target = view.inventory.hosts.find((h) => h.name === job.target.name);
    if (!vm || !target) return null;
    const tasks = await this.api.recentTasks(vm.ref);
    const running = tasks.find(
      (t) =>
        (t.name === null || /^(RelocateVM_Task|MigrateVM_Task)$/.test(t.name)) &&
        (t.state === 'running' || t.state === 'queued') &&
        (t.entityRef === null || refKey(t.entityRef) === refKey(vm.ref)),
    );
    if (!running) return null;
    return {
      kind: 'vsphere',
      pid: 0,
      startTime: 0,
      pgid: 0,
      bootId: null,
      task: running.ref.value,
      vm: vm.ref.value,
      targetHost: target.ref.value,
    };
  }

  /** Where vCenter says the VM runs: the job's source, its target, or neither. */
  private async whereIs(job: MigrationJob): Promise<VmLocation> {
    const view = await this.cluster.read();
    const vm = view.inventory.vms.find((v) => v.name === job.vm.name);
    if (!vm) return 'unknown';
    const host = await this.api.vmHost(vm.ref);
    const name = host ? view.hostNames.get(refKey(host)) : undefined;
    return name === job.target.name ? 'target' : name === job.source.name ? 'source' : 'unknown';
  }

  /** Reads the task until it ends; cancels it on the signal or at the deadline; lets go on detach. */
  private async follow(
    task: MoRef,
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    detach: AbortSignal | undefined,
    deadlineMs: number,
  ): Promise<Followed> {
    let stopping: 'cancelled' | 'timed-out' | null = null;
    let giveUpAt = Infinity;
    let percent = 0;
    const started = Date.now();
    let lastError = '';
    for (;;) {
      if (detach?.aborted) return { status: 'detached' };
      let info: TaskInfo | null = null;
      try {
        info = await this.api.taskInfo(task);
      } catch (error) {
        if (error instanceof ConnectorError && error.reason === 'not-found')
          return { status: 'gone', error: `vCenter no longer knows task ${task.value}` };
        lastError = errorMessage(error);
      }
      if (info?.state === 'success') return { status: 'success' };
      if (info?.state === 'error') {
        if (stopping) return { status: stopping };
        return info.cancelled ? { status: 'cancelled' } : { status: 'error', error: info.error ?? 'the task failed without saying why' };
      }
      if (info && info.progress !== null && info.progress > percent) {
        percent = Math.min(99, info.progress);
        const seconds = (Date.now() - started) / 1000;
        emitProgress(onProgress, {
          percent,
          round: 0,
          copiedMib: (job.vm.memoryMib * percent) / 100,
          remainingMib: (job.vm.memoryMib * (100 - percent)) / 100,
          etaSeconds: percent > 0 ? (seconds * (100 - percent)) / percent : null,
        });
      }
      if (stopping === null && (signal.aborted || Date.now() >= deadlineMs)) {
        stopping = signal.aborted ? 'cancelled' : 'timed-out';
        await this.api.cancelTask(task).catch((error: unknown) => (lastError = errorMessage(error)));
        giveUpAt = Date.now() + this.options.cancelGraceSeconds * 1000;
      }
      if (Date.now() >= giveUpAt)
        return { status: 'error', error: `task ${task.value} did not end after CancelTask (${lastError || 'no answer'})` };
      await delay(this.options.pollMs, undefined, { signal: anySignal(stopping ? undefined : signal, detach) }).catch(() => undefined);
    }
  }
}
