// Live migration through Proxmox VE: qemu-server's migrate (POST /nodes/{node}/qemu/{vmid}/migrate, online) whose
// task (UPID) is the handle, followed through its status and log and stopped by DELETE on the task; HA-managed guests
// through the HA manager (POST /cluster/ha/resources/{sid}/migrate), done when PVE shows the guest on its target.
// The task lives in PVE, not in this process, so a restarted service adopts it by UPID; where PVE says the guest runs
// decides every outcome.
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
  ProxmoxMigrationHandle,
  VmLocation,
} from '../../live-migration/drivers/migration-driver';
import { anySignal, emitProgress, errorMessage } from '../../live-migration/drivers/progress';
import { ConnectorError } from '../connector';
import type { PveClient } from './pve-client';
import { haAutoRebalance, progressPercent, type TaskProgress } from './pve-parse';
import { readTaskLog, taskError } from './pve-tasks';
import type { ClusterView, HaView } from './proxmox-connector';

export interface ProxmoxMigrationOptions {
  /** A migration still running after this is stopped and fails (transient). */
  timeLimitSeconds: number;
  pollMs: number;
  /** After the task is stopped, how long it gets to end before the attempt is given up on. */
  cancelGraceSeconds: number;
  /** How long the HA manager gets to start on a request (a CRM round is 10 s) before it counts as ignored. */
  haStartSeconds: number;
  allowLocalDisks: boolean;
}

export const DEFAULT_PROXMOX_MIGRATION_OPTIONS: ProxmoxMigrationOptions = {
  timeLimitSeconds: 3600,
  pollMs: 1000,
  cancelGraceSeconds: 60,
  haStartSeconds: 120,
  allowLocalDisks: false,
};

/** How the driver reads the cluster: the connector's reads. */
export interface ProxmoxClusterReader {
  read(signal?: AbortSignal): Promise<ClusterView>;
  readHa(signal?: AbortSignal): Promise<HaView>;
}

type Followed =
  | { status: 'success'; progress: TaskProgress }
  | { status: 'error'; error: string }
  | { status: 'cancelled' }
  | { status: 'timed-out' }
  | { status: 'detached' };

/** Errors another try will not cure. */
const PERMANENT = /local devices|local disk|not allowed|Only root|is not HA managed|no such cluster node|not a cluster member/i;

const path = (node: string) => `/nodes/${encodeURIComponent(node)}`;

export class ProxmoxMigrationDriver implements MigrationDriver {
  readonly name = 'proxmox';
  readonly timeLimitMs: number;
  private readonly options: ProxmoxMigrationOptions;

  constructor(
    private readonly api: PveClient,
    private readonly cluster: ProxmoxClusterReader,
    options: Partial<ProxmoxMigrationOptions> = {},
  ) {
    this.options = { ...DEFAULT_PROXMOX_MIGRATION_OPTIONS, ...options };
    this.timeLimitMs = (this.options.timeLimitSeconds + this.options.cancelGraceSeconds + this.options.haStartSeconds) * 1000;
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
    let ha: HaView;
    try {
      [view, ha] = await Promise.all([this.cluster.read(signal), this.cluster.readHa(signal)]);
    } catch (error) {
      return { status: 'failed', error: `Proxmox VE could not be read: ${errorMessage(error)}`, transient: true };
    }
    const guest = view.byName.get(job.vm.name);
    const target = view.nodes.find((n) => n.name === job.target.name);
    if (!guest) return { status: 'failed', error: `Proxmox VE has no guest named "${job.vm.name}"`, transient: false };
    if (!target) return { status: 'failed', error: `Proxmox VE has no node named "${job.target.name}"`, transient: false };
    if (guest.type !== 'qemu')
      return { status: 'failed', error: `${job.vm.name} is a container: Proxmox VE moves containers only by restart`, transient: false };
    if (!target.online) return { status: 'failed', error: `node ${target.name} is offline`, transient: true };
    if (ha.maintenance.has(target.name))
      return { status: 'failed', error: `node ${target.name} is in HA maintenance: no guest is placed there`, transient: false };
    if (guest.lock) return { status: 'failed', error: `${job.vm.name} is locked by Proxmox VE (lock: ${guest.lock})`, transient: true };
    const sid = `vm:${guest.vmid}`;
    const haManaged = ha.services.has(sid);
    if (haManaged && haAutoRebalance(ha.crs))
      return { status: 'failed', error: `${job.vm.name} is HA-managed while Proxmox VE's CRS rebalances HA guests`, transient: false };
    if (signal.aborted) return { status: 'cancelled' };

    let upid = '';
    try {
      if (haManaged) {
        const refusal = await this.requestHaMigration(guest.node, guest.vmid, target.name);
        if (refusal) return { status: 'failed', error: refusal, transient: false };
      } else {
        upid = await this.api.post<string>(`${path(guest.node)}/qemu/${guest.vmid}/migrate`, {
          target: target.name,
          online: guest.status === 'running' ? 1 : undefined,
          'with-local-disks': this.options.allowLocalDisks ? 1 : undefined,
        });
      }
    } catch (error) {
      const message = errorMessage(error);
      // A missing privilege or a refusal PVE explains as final is not cured by trying again.
      const transient = !(
        error instanceof ConnectorError &&
        (error.reason === 'auth' || (error.reason === 'refused' && PERMANENT.test(message)))
      );
      return { status: 'failed', error: `Proxmox VE refused the migration: ${message}`, transient };
    }
    const handle: ProxmoxMigrationHandle = {
      kind: 'proxmox',
      pid: 0,
      startTime: 0,
      pgid: 0,
      bootId: null,
      upid,
      node: guest.node,
      vmid: guest.vmid,
      target: target.name,
      ha: haManaged,
    };
    if (hooks) {
      try {
        await hooks.onLaunched(handle);
      } catch (error) {
        if (upid) await this.api.delete(`${path(guest.node)}/tasks/${encodeURIComponent(upid)}`).catch(() => undefined);
        return { status: 'failed', error: `the migration's handle could not be stored: ${errorMessage(error)}`, transient: true };
      }
    }
    const end = await this.follow(handle, job, signal, onProgress, hooks?.detach, started + this.options.timeLimitSeconds * 1000);
    const moved = async () => (await this.whereIs(job).catch((): VmLocation => 'unknown')) === 'target';
    // What the task log said, when it was read: the copied VM state and the switch-over's downtime.
    const told = end.status === 'success' ? end.progress : {};
    const succeeded = (): MigrationOutcome => ({
      status: 'succeeded',
      downtimeMs: told.downtimeMs ?? 0,
      rounds: 1,
      copiedMib: told.memory ? told.memory.total / 1024 / 1024 : job.vm.memoryMib,
      durationSeconds: elapsed(),
    });
    switch (end.status) {
      case 'detached':
        return { status: 'detached' };
      case 'success':
        return (await moved())
          ? succeeded()
          : { status: 'failed', error: 'the migration ended but Proxmox VE does not show the guest on its target', transient: true };
      case 'cancelled':
        // A migration that finished before the stop reached it has moved the guest: that is what counts.
        return (await moved()) ? succeeded() : { status: 'cancelled' };
      case 'timed-out':
        return (await moved())
          ? succeeded()
          : {
              status: 'failed',
              error: `migration still running after ${this.options.timeLimitSeconds} s: stopped`,
              transient: true,
              durationSeconds: elapsed(),
            };
      case 'error':
        return (await moved())
          ? succeeded()
          : {
              status: 'failed',
              error: `migration failed: ${end.error}`,
              transient: !PERMANENT.test(end.error),
              durationSeconds: elapsed(),
            };
    }
  }

  /**
   * Asks the HA manager to move an HA-managed guest: through /cluster/ha/resources/{sid}/migrate (Sys.Console), which
   * says which resources would block the target; a token without Sys.Console goes through qemu-server's migrate, which
   * for an HA-managed guest only queues the same request (a `hamigrate` task that ends at once). Resolves to why the HA
   * manager will not do it, or null.
   */
  private async requestHaMigration(node: string, vmid: number, target: string): Promise<string | null> {
    const sid = `vm:${vmid}`;
    try {
      const answer = await this.api.post<{ 'blocking-resources'?: Array<{ sid: string; cause: string }> }>(
        `/cluster/ha/resources/${sid}/migrate`,
        { node: target },
      );
      const blocking = answer?.['blocking-resources'] ?? [];
      if (blocking.length === 0) return null;
      return `the HA manager will not place ${sid} on ${target}: ${blocking.map((b) => `${b.sid} (${b.cause})`).join(', ')}`;
    } catch (error) {
      if (!(error instanceof ConnectorError && error.reason === 'auth')) throw error;
      await this.api.post<string>(`${path(node)}/qemu/${vmid}/migrate`, { target, online: 1 });
      return null;
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
    if (handle.kind !== 'proxmox') return { status: 'ended', output: `not a Proxmox VE task: ${handle.kind}` };
    const what = handle.ha ? `HA migration of vm:${handle.vmid}` : `task ${handle.upid}`;
    const end = await this.follow(handle, job, signal, onProgress, detach, deadlineMs ?? Infinity);
    switch (end.status) {
      case 'detached':
        return { status: 'detached' };
      case 'cancelled':
        return { status: 'cancelled', output: `${what} stopped` };
      case 'timed-out':
        return { status: 'timed-out', output: `${what} stopped at the time limit` };
      case 'success':
        return { status: 'ended', output: `${what} ended` };
      case 'error':
        return { status: 'ended', output: `${what}: ${end.error}` };
    }
  }

  /** A migration of the guest a crash left running before its handle was stored. */
  async findLaunched(job: MigrationJob): Promise<MigrationHandle | null> {
    const [view, ha] = await Promise.all([this.cluster.read(), this.cluster.readHa()]);
    const guest = view.byName.get(job.vm.name);
    if (!guest || guest.type !== 'qemu') return null;
    const base = { kind: 'proxmox' as const, pid: 0, startTime: 0, pgid: 0, bootId: null, node: guest.node, vmid: guest.vmid };
    const service = ha.services.get(`vm:${guest.vmid}`);
    if (service?.state === 'migrate' && service.target === job.target.name) return { ...base, upid: '', target: job.target.name, ha: true };
    const upid = await this.runningTask(guest.node, guest.vmid);
    return upid ? { ...base, upid, target: job.target.name, ha: service !== undefined } : null;
  }

  /** The qmigrate task of the guest running on its node, if any. */
  private async runningTask(node: string, vmid: number): Promise<string | null> {
    const tasks = await this.api.get<{ data?: Array<{ upid: string; status?: string }> } | Array<{ upid: string }>>(`${path(node)}/tasks`, {
      source: 'active',
      vmid,
      typefilter: 'qmigrate',
    });
    const list = Array.isArray(tasks) ? tasks : (tasks?.data ?? []);
    return list[0]?.upid ?? null;
  }

  /** Where PVE says the guest runs: the job's source, its target, or neither. */
  private async whereIs(job: MigrationJob): Promise<VmLocation> {
    const view = await this.cluster.read();
    const node = view.byName.get(job.vm.name)?.node;
    return node === job.target.name ? 'target' : node === job.source.name ? 'source' : 'unknown';
  }

  /**
   * Follows the migration until it ends: the task's status and log (progress); for the HA manager's migrations, the HA
   * service (whose qmigrate task, once started, gives the progress). Stops it on the signal or at the deadline; lets go
   * on detach.
   */
  private async follow(
    handle: ProxmoxMigrationHandle,
    job: MigrationJob,
    signal: AbortSignal,
    onProgress: (progress: MigrationProgress) => void,
    detach: AbortSignal | undefined,
    deadlineMs: number,
  ): Promise<Followed> {
    let stopping: 'cancelled' | 'timed-out' | null = null;
    let stopSent = false;
    let giveUpAt = Infinity;
    let upid = handle.upid;
    let logLines = 0;
    let progress: TaskProgress = {};
    let percent = 0;
    let lastError = '';
    const started = Date.now();
    const sid = `vm:${handle.vmid}`;
    let haSeenMoving = false;
    const haStartBy = Date.now() + this.options.haStartSeconds * 1000;
    for (;;) {
      if (detach?.aborted) return { status: 'detached' };
      try {
        if (handle.ha) {
          const [view, ha] = await Promise.all([this.cluster.read(), this.cluster.readHa()]);
          const node = view.guests.find((g) => g.vmid === handle.vmid)?.node;
          if (node === handle.target) {
            if (upid) ({ progress } = await readTaskLog(this.api, handle.node, upid, logLines, progress));
            return { status: 'success', progress };
          }
          const service = ha.services.get(sid);
          if (service?.state === 'migrate' || service?.state === 'relocate') haSeenMoving = true;
          if (haSeenMoving && !upid && node) upid = (await this.runningTask(node, handle.vmid)) ?? '';
          if (haSeenMoving && service?.state !== 'migrate' && service?.state !== 'relocate') {
            if (stopping) return { status: stopping };
            const why = upid ? await taskError(this.api, handle.node, upid) : null;
            return { status: 'error', error: why ?? `the HA manager's migration of ${sid} ended with the guest on ${node ?? 'no node'}` };
          }
          if (!haSeenMoving && Date.now() > haStartBy)
            return {
              status: 'error',
              error: `the HA manager did not act on the request to move ${sid} to ${handle.target} within ${this.options.haStartSeconds} s`,
            };
          if (upid) ({ lines: logLines, progress } = await readTaskLog(this.api, handle.node, upid, logLines, progress));
        } else {
          const status = await this.api.get<{ status?: string; exitstatus?: string }>(
            `${path(handle.node)}/tasks/${encodeURIComponent(upid)}/status`,
          );
          ({ lines: logLines, progress } = await readTaskLog(this.api, handle.node, upid, logLines, progress));
          if (status?.status === 'stopped') {
            if (status.exitstatus === 'OK') return { status: 'success', progress };
            if (stopping) return { status: stopping };
            const why = await taskError(this.api, handle.node, upid);
            return { status: 'error', error: why ?? status.exitstatus ?? 'the task failed without saying why' };
          }
        }
      } catch (error) {
        if (error instanceof ConnectorError && error.reason === 'not-found' && !handle.ha)
          return { status: 'error', error: `Proxmox VE no longer knows task ${upid}` };
        lastError = errorMessage(error);
      }
      const now = progressPercent(progress);
      if (now > percent) {
        percent = now;
        const seconds = (Date.now() - started) / 1000;
        const copiedMib = progress.memory ? progress.memory.done / 1024 / 1024 : (job.vm.memoryMib * percent) / 100;
        emitProgress(onProgress, {
          percent,
          round: 0,
          copiedMib,
          remainingMib: progress.memory
            ? Math.max(0, (progress.memory.total - progress.memory.done) / 1024 / 1024)
            : job.vm.memoryMib - copiedMib,
          etaSeconds: percent > 0 ? (seconds * (100 - percent)) / percent : null,
        });
      }
      if (stopping === null && (signal.aborted || Date.now() >= deadlineMs)) {
        stopping = signal.aborted ? 'cancelled' : 'timed-out';
        giveUpAt = Date.now() + this.options.cancelGraceSeconds * 1000;
      }
      if (stopping && !stopSent && upid) {
        stopSent = true;
        await this.api
          .delete(`${path(handle.node)}/tasks/${encodeURIComponent(upid)}`)
          .catch((error: unknown) => (lastError = errorMessage(error)));
      }
      if (Date.now() >= giveUpAt)
        return { status: 'error', error: `the migration did not end after it was stopped (${lastError || 'no answer'})` };
      await delay(this.options.pollMs, undefined, { signal: anySignal(stopping ? undefined : signal, detach) }).catch(() => undefined);
    }
  }
}
