import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideLocation, jobProgress, type HostView } from './migration-decisions';
import { parseDomJobInfo } from './virsh-parse';

const running: HostView = { kind: 'present', state: 'running', reason: 'migrated' };
const leftover: HostView = { kind: 'present', state: 'paused', reason: 'migrating' };
const userPaused: HostView = { kind: 'present', state: 'paused', reason: 'user' };
const shutOff: HostView = { kind: 'present', state: 'shut off', reason: 'destroyed' };
const absent: HostView = { kind: 'absent' };
const down: HostView = { kind: 'unknown', error: 'h1: virsh domstate: Connection refused' };

describe('decideLocation', () => {
  it('source runs it and the target holds a paused leftover: destroy the leftover, the VM is on the source', () => {
    expect(decideLocation(running, leftover, false)).toMatchObject({ location: 'source', destroyTargetLeftover: true });
  });

  it('only the target runs it: target, and the source is left alone', () => {
    expect(decideLocation(absent, running, false)).toMatchObject({ location: 'target', destroyTargetLeftover: false });
    // the source's copy paused for the switch-over, target already resumed
    expect(decideLocation(leftover, running, false)).toMatchObject({ location: 'target', destroyTargetLeftover: false });
  });

  it('source runs it and the target has nothing: source, nothing destroyed', () => {
    expect(decideLocation(running, absent, false)).toEqual({
      location: 'source',
      destroyTargetLeftover: false,
      why: 'the source runs the domain',
    });
  });

  it('a host that cannot answer makes it unknown, and nothing is destroyed', () => {
    expect(decideLocation(running, down, false)).toMatchObject({ location: 'unknown', destroyTargetLeftover: false });
    expect(decideLocation(down, running, false).location).toBe('unknown');
    expect(decideLocation(running, leftover, null)).toMatchObject({ location: 'unknown', destroyTargetLeftover: false });
  });

  it('a job still active on the source is unknown: its paused copy on the target is not a leftover yet', () => {
    expect(decideLocation(running, leftover, true)).toMatchObject({ location: 'unknown', destroyTargetLeftover: false });
  });

  it('unknown for a moment only while a job winds down or the source resumes a guest the migration paused: asked again', () => {
    expect(decideLocation(running, leftover, true).passing).toBe(true);
    // after an aborted migration the source resumes its paused copy: not an answer yet
    expect(decideLocation(leftover, leftover, false)).toMatchObject({ location: 'unknown', passing: true });
    expect(decideLocation(leftover, absent, false)).toMatchObject({ location: 'unknown', passing: true });
    // these stay unknown however often asked
    expect(decideLocation(running, running, false).passing).toBeFalsy();
    expect(decideLocation(absent, absent, false).passing).toBeFalsy();
    expect(decideLocation(running, down, false).passing).toBeFalsy();
  });

  it('a guest paused by its user still counts as on that host', () => {
    expect(decideLocation(userPaused, leftover, false)).toMatchObject({ location: 'source', destroyTargetLeftover: true });
    expect(decideLocation(absent, userPaused, false).location).toBe('target');
  });

  it('stopped domains are where they are defined; both running or nowhere is unknown', () => {
    expect(decideLocation(shutOff, absent, false).location).toBe('source');
    expect(decideLocation(absent, shutOff, false).location).toBe('target');
    expect(decideLocation(running, running, false).location).toBe('unknown');
    expect(decideLocation(absent, absent, false).location).toBe('unknown');
    expect(decideLocation(absent, leftover, false)).toMatchObject({ location: 'unknown', destroyTargetLeftover: false });
  });
});

describe('jobProgress', () => {
  const job = (name: string) => parseDomJobInfo(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));

  it('a first pass: processed over processed + remaining, round 0, ETA from bandwidth less dirty rate', () => {
    // Data processed 9.626 MiB, remaining 117.965 MiB, bandwidth 7.944 MiB/s, dirty rate 0, iteration 1
    const progress = jobProgress(job('domjobinfo-running.txt'), 0)!;
    expect(progress.percent).toBeCloseTo((100 * 9.626) / (9.626 + 117.965), 6);
    expect(progress.round).toBe(0);
    expect(progress.copiedMib).toBeCloseTo(9.626, 6);
    expect(progress.remainingMib).toBeCloseTo(117.965, 6);
    expect(progress.etaSeconds).toBeCloseTo(117.965 / 7.944, 3);
  });

  it('late rounds: the percentage never goes back; no ETA once the guest dirties as fast as the link sends', () => {
    // iteration 143, remaining 14.402 MiB, bandwidth 8.024 MiB/s, dirty rate 1912 pages/s × 4 KiB = 7.47 MiB/s
    const progress = jobProgress(job('domjobinfo-running-gib.txt'), 99.9)!;
    expect(progress.round).toBe(142);
    expect(progress.percent).toBe(99.9);
    expect(progress.etaSeconds).toBeCloseTo(14.402 / (8.024 - 7.46875), 3);
    const stalled = jobProgress({ ...job('domjobinfo-running-gib.txt'), bandwidthMibPerSecond: 7 }, 0)!;
    expect(stalled.etaSeconds).toBeNull();
    expect(stalled.percent).toBeLessThanOrEqual(99);
  });

  it('no job, or a completed one, is no progress', () => {
    expect(jobProgress(job('domjobinfo-none.txt'), 0)).toBeNull();
    expect(jobProgress(job('domjobinfo-completed.txt'), 0)).toBeNull();
  });
});
