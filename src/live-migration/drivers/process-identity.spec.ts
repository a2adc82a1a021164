import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessHandle, parseProcStat, ProcFs } from './process-identity';

/** A /proc/<pid>/stat line with the given command name, state, process group and start time (field 22). */
function statLine(pid: number, comm: string, state: string, pgid: number, startTime: number): string {
  // Fields 4 (ppid) to 21, then 22 = starttime, then more.
  const middle = [1, pgid, pgid, 0, -1, 4194560, 100, 0, 0, 0, 5, 3, 0, 0, 20, 0, 1, 0];
  return `${pid} (${comm}) ${state} ${middle.join(' ')} ${startTime} 12345678 321 18446744073709551615\n`;
}

describe('parseProcStat', () => {
  it('reads state, process group and start time (field 22)', () => {
    expect(parseProcStat(statLine(4242, 'virsh', 'S', 4242, 987654))).toEqual({
      pid: 4242,
      state: 'S',
      ppid: 1,
      pgid: 4242,
      startTime: 987654,
    });
  });

  it('is not fooled by spaces and parentheses in the command name', () => {
    expect(parseProcStat(statLine(7, 'a) R 1 2 3 (b', 'Z', 9, 55))).toMatchObject({ pid: 7, state: 'Z', pgid: 9, startTime: 55 });
  });

  it('gives null for text that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (x) S 1 2')).toBeNull();
  });
});

describe('ProcFs on a made-up /proc', () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'drs-proc-'));
    write('sys/kernel/random/boot_id', 'boot-1\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('identifies a process by pid, start time, group and boot', () => {
    write('100/stat', statLine(100, 'virsh', 'S', 100, 5000));
    expect(new ProcFs(root).identify(100)).toEqual({ kind: 'process', pid: 100, startTime: 5000, pgid: 100, bootId: 'boot-1' });
    expect(new ProcFs(root).identify(101)).toBeNull();
  });

  it('says a handle runs only for the same pid, start time and boot, and not as a zombie', () => {
    const procFs = new ProcFs(root);
    write('100/stat', statLine(100, 'virsh', 'S', 100, 5000));
    const handle = procFs.identify(100)!;
    expect(procFs.isRunning(handle)).toBe(true);
    // The pid was reused by another process.
    write('100/stat', statLine(100, 'bash', 'S', 100, 9000));
    expect(procFs.isRunning(handle)).toBe(false);
    write('100/stat', statLine(100, 'virsh', 'Z', 100, 5000));
    expect(procFs.isRunning(handle)).toBe(false);
    write('100/stat', statLine(100, 'virsh', 'R', 100, 5000));
    expect(procFs.isRunning(handle)).toBe(true);
    // After a reboot start times begin again: same numbers, another process.
    write('sys/kernel/random/boot_id', 'boot-2\n');
    expect(procFs.isRunning(handle)).toBe(false);
  });
});

describe('ProcFs on this machine', () => {
  it('reads the identity of a process it started, and sees it gone once it exits', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const procFs = new ProcFs();
    try {
      const handle = procFs.identify(child.pid!)!;
      expect(isProcessHandle(handle)).toBe(true);
      // detached: its own session, so its own process group.
      expect(handle).toMatchObject({ kind: 'process', pid: child.pid, pgid: child.pid });
      expect(handle.startTime).toBeGreaterThan(procFs.stat(process.pid)!.startTime - 1);
      expect(procFs.isRunning(handle)).toBe(true);
      expect(procFs.isRunning({ ...handle, startTime: handle.startTime + 1 })).toBe(false);
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      expect(procFs.isRunning(handle)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('finds the processes that hold a file as their output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drs-hold-'));
    const path = join(dir, 'out');
    const fd = openSync(path, 'w');
    const child = spawn('sleep', ['30'], { detached: true, stdio: ['ignore', fd, 'ignore'] });
    closeSync(fd);
    try {
      const procFs = new ProcFs();
      expect(procFs.holding(path).map((h) => h.pid)).toEqual([child.pid]);
      expect(procFs.holding(join(dir, 'other'))).toEqual([]);
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
