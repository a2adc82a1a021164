// Who a process is, as Linux's /proc says: a pid alone is reused, a pid with its start time (field 22
// of /proc/<pid>/stat, clock ticks since boot) and the boot id is not. A migration command's identity
// is stored so that a restarted service finds the very command it started, and nothing else.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A command the engine started, as stored with its migration (the `handle` column). */
export interface ProcessHandle {
  kind: 'process';
  pid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot at which the process started. */
  startTime: number;
  /** Its process group: the command and what it started (ssh, a helper) are signalled together. */
  pgid: number;
  /** /proc/sys/kernel/random/boot_id: start times restart from zero at every boot. */
  bootId: string | null;
}

export interface ProcessStat {
  pid: number;
  /** R, S, D, T, Z (zombie: exited, not yet reaped), X… */
  state: string;
  ppid: number;
  pgid: number;
  startTime: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself contain
 * spaces and parentheses, so fields are counted from the last ")".
 */
export function parseProcStat(text: string): ProcessStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ")": field 3 (state) is rest[0], so field N is rest[N - 3].
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (rest.length < 20 || !Number.isInteger(pid)) return null;
  const [ppid, pgid, startTime] = [Number(rest[1]), Number(rest[2]), Number(rest[19])];
  if (![ppid, pgid, startTime].every(Number.isSafeInteger)) return null;
  return { pid, state: rest[0], ppid, pgid, startTime };
}

export class ProcFs {
  constructor(private readonly root = '/proc') {}

  stat(pid: number): ProcessStat | null {
    try {
      return parseProcStat(readFileSync(join(this.root, String(pid), 'stat'), 'utf8'));
    } catch {
      return null;
    }
  }

  bootId(): string | null {
    try {
      return readFileSync(join(this.root, 'sys', 'kernel', 'random', 'boot_id'), 'utf8').trim() || null;
    } catch {
      return null;
    }
  }

  /** The identity of a process we just started; null if /proc does not know it (not Linux, or gone and reaped). */
  identify(pid: number): ProcessHandle | null {
    const stat = this.stat(pid);
    if (!stat) return null;
    return { kind: 'process', pid, startTime: stat.startTime, pgid: stat.pgid, bootId: this.bootId() };
  }

  /** The very process of the handle still runs: same pid, same start time, same boot, not a zombie. */
  isRunning(handle: Pick<ProcessHandle, 'pid' | 'startTime' | 'bootId'>): boolean {
    const stat = this.stat(handle.pid);
    if (!stat || stat.startTime !== handle.startTime || stat.state === 'Z' || stat.state === 'X') return false;
    const bootId = this.bootId();
    return handle.bootId === null || bootId === null || handle.bootId === bootId;
  }

  /**
   * Running processes that have `path` open as their stdout or stderr (readable only for our own
   * user's processes): how a command started just before a crash, whose identity was not stored yet,
   * is found again through its output file. The group leader first: it is the command itself.
   */
  holding(path: string, exceptPid = process.pid): ProcessHandle[] {
    const found: ProcessHandle[] = [];
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch {
      return [];
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || Number(entry) === exceptPid) continue;
      const holds = ['1', '2'].some((fd) => {
        try {
          return readlinkSync(join(this.root, entry, 'fd', fd)) === path;
        } catch {
          return false;
        }
      });
      if (!holds) continue;
      const handle = this.identify(Number(entry));
      if (handle && this.isRunning(handle)) found.push(handle);
    }
    return found.sort((a, b) => Number(b.pid === b.pgid) - Number(a.pid === a.pgid) || a.startTime - b.startTime);
  }
}

/** Signals a process group; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function isProcessHandle(value: unknown): value is ProcessHandle {
  const h = value as ProcessHandle;
  return (
    typeof h === 'object' &&
    h !== null &&
    h.kind === 'process' &&
    Number.isSafeInteger(h.pid) &&
    h.pid > 0 &&
    Number.isSafeInteger(h.startTime) &&
    Number.isSafeInteger(h.pgid) &&
    h.pgid > 0
  );
}
