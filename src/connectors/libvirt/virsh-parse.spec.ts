// Parsers against output captured from real libvirt 9 hosts (fixtures/); expected values read off the files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseDomInfo,
  parseDomJobInfo,
  parseDomState,
  parseDomStats,
  parseListTable,
  parseNodeInfo,
  parseNodeMemStats,
  parseSizeMib,
  parseUuidNameList,
} from './virsh-parse';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

describe('virsh output parsers', () => {
  it('nodeinfo: logical CPUs, MHz per CPU and memory in MiB', () => {
    // CPU(s): 2, CPU frequency: 2095 MHz, Memory size: 24683748 KiB (= 24105.22 MiB)
    expect(parseNodeInfo(fixture('nodeinfo.txt'))).toEqual({ cpus: 2, cpuMhz: 2095, memoryMib: 24105 });
  });

  it('nodememstats: sizes in MiB', () => {
    const stats = parseNodeMemStats(fixture('nodememstats.txt'));
    expect(stats.totalMib).toBeCloseTo(24683748 / 1024, 3);
    expect(stats.freeMib).toBeCloseTo(21185248 / 1024, 3);
    expect(stats.buffersMib).toBeCloseTo(56508 / 1024, 3);
    expect(stats.cachedMib).toBeCloseTo(1492672 / 1024, 3);
  });

  it('list --all --uuid --name: uuid and name per domain, shut-off ones included', () => {
    expect(parseUuidNameList(fixture('list-all-uuid-name.txt'))).toEqual([
      { uuid: 'b2c346d1-fde5-45a7-b3fa-2bb8e811c454', name: 'idle1' },
      { uuid: '03008692-480d-4dae-bea4-78bae9fa0f7c', name: 'busy1' },
    ]);
    expect(parseUuidNameList(fixture('list-all-uuid-name-shutoff.txt'))).toEqual([
      { uuid: '62bfbdfe-55c2-4ef2-b5ed-0ad6cb33982c', name: 'off1' },
    ]);
  });

  it('list --all table: id, name and state words (two-word states too)', () => {
    expect(parseListTable(fixture('list-all.txt'))).toEqual([
      { id: 1, name: 'busy1', state: 'running' },
      { id: null, name: 'off1', state: 'shut off' },
    ]);
    expect(parseListTable(fixture('list-all-paused.txt'))).toEqual([
      { id: 1, name: 'idle1', state: 'paused' },
      { id: 3, name: 'busy1', state: 'running' },
    ]);
    // a client killed mid-migration: the target's paused copy
    expect(parseListTable(fixture('list-all-leftover.txt'))).toEqual([
      { id: 2, name: 'busy1', state: 'paused' },
      { id: null, name: 'off1', state: 'shut off' },
    ]);
    expect(parseListTable(fixture('list-all-migration-target.txt'))).toEqual([
      { id: 1, name: 'idle1', state: 'running' },
      { id: 2, name: 'busy1', state: 'paused' },
    ]);
  });

  it('domstate with and without a reason', () => {
    expect(parseDomState(fixture('domstate-running.txt'))).toEqual({ state: 'running', reason: null });
    expect(parseDomState(fixture('domstate-shutoff.txt'))).toEqual({ state: 'shut off', reason: null });
    expect(parseDomState(fixture('domstate-paused.txt'))).toEqual({ state: 'paused', reason: null });
    expect(parseDomState(fixture('domstate-reason-leftover.txt'))).toEqual({ state: 'paused', reason: 'migrating' });
  });

  it('dominfo of a running, a shut-off and an incoming (transient, paused) domain', () => {
    expect(parseDomInfo(fixture('dominfo-running.txt'))).toEqual({
      id: 1,
      name: 'busy1',
      uuid: '03008692-480d-4dae-bea4-78bae9fa0f7c',
      state: 'running',
      vcpus: 1,
      maxMemoryMib: 128,
      usedMemoryMib: 128,
      persistent: true,
    });
    expect(parseDomInfo(fixture('dominfo-shutoff.txt'))).toMatchObject({ id: null, name: 'off1', state: 'shut off', maxMemoryMib: 64 });
    expect(parseDomInfo(fixture('dominfo-incoming.txt'))).toMatchObject({ id: 2, state: 'paused', persistent: false });
  });

  describe('domstats --raw', () => {
    it('splits one block per domain with state, CPU time, vCPUs and balloon figures', () => {
      const [off, busy] = parseDomStats(fixture('domstats-all-h0.txt'));
      expect(off).toMatchObject({ name: 'off1', state: 5, power: 'stopped', cpuTimeNs: 340000000, vcpus: 1, balloonMaximumMib: 64 });
      expect(busy).toMatchObject({
        name: 'busy1',
        state: 1,
        reason: 1,
        power: 'running',
        cpuTimeNs: 6320000000,
        vcpus: 1,
        balloonCurrentMib: 128,
        balloonMaximumMib: 128,
      });
      // balloon.rss=233196, unused=34284, available=94800, usable=39928 (KiB)
      expect(busy.rssMib).toBeCloseTo(227.73, 2);
      expect(busy.unusedMib).toBeCloseTo(33.48, 2);
      expect(busy.availableMib).toBeCloseTo(92.58, 2);
      expect(busy.usableMib).toBeCloseTo(38.99, 2);
      expect(busy.raw.get('vcpu.0.time')).toBe('5450000000');
    });

    it('leaves the guest figures undefined when its balloon driver reports none yet', () => {
      const [idle] = parseDomStats(fixture('domstats-idle.txt'));
      expect(idle).toMatchObject({ name: 'idle1', power: 'running', balloonCurrentMib: 64, unusedMib: undefined, usableMib: undefined });
      expect(idle.rssMib).toBeCloseTo(193.08, 2);
      // calc_status=0: no measurement was asked for
      expect(idle.dirtyRateMibPerSecond).toBeUndefined();
    });

    it('reads a finished dirty-rate measurement only', () => {
      expect(parseDomStats(fixture('domstats-dirtyrate.txt'))[0].dirtyRateMibPerSecond).toBe(32);
      expect(parseDomStats(fixture('domstats-busy.txt'))[0].dirtyRateMibPerSecond).toBeUndefined();
    });

    it('a guest that arrived by migration runs (state 1, reason 2 = migrated)', () => {
      const [busy, idle] = parseDomStats(fixture('domstats-all-h1.txt'));
      expect(busy).toMatchObject({ name: 'busy1', state: 1, reason: 2, power: 'running', cpuTimeNs: 75470000000 });
      expect(idle).toMatchObject({ name: 'idle1', power: 'running', cpuTimeNs: 310760000000, unusedMib: undefined });
    });

    it('reports the incoming copy of a migration as paused for migration (state 3, reason 2)', () => {
      expect(parseDomStats(fixture('domstats-incoming.txt'))[0]).toMatchObject({ name: 'busy1', state: 3, reason: 2, power: 'paused' });
    });
  });

  describe('domjobinfo', () => {
    it('a running outgoing migration on the source', () => {
      const job = parseDomJobInfo(fixture('domjobinfo-running.txt'));
      expect(job).toMatchObject({
        type: 'Unbounded',
        operation: 'Outgoing migration',
        elapsedMs: 3021,
        iteration: 1,
        expectedDowntimeMs: 300,
      });
      expect(job.processedMib).toBeCloseTo(9.626, 3);
      expect(job.remainingMib).toBeCloseTo(117.965, 3);
      expect(job.totalMib).toBeCloseTo(128.508, 3);
      expect(job.bandwidthMibPerSecond).toBeCloseTo(7.944, 3);
      expect(job.dirtyRateMibPerSecond).toBe(0);
    });

    it('a later round: iteration 7, little left', () => {
      const job = parseDomJobInfo(fixture('domjobinfo-running-late.txt'));
      expect(job).toMatchObject({ type: 'Unbounded', elapsedMs: 39770, iteration: 7, expectedDowntimeMs: 4419 });
      expect(job.processedMib).toBeCloseTo(295.26, 3);
      expect(job.remainingMib).toBeCloseTo(4.781, 3);
      // 2002 pages/s of 4096 bytes
      expect(job.dirtyRateMibPerSecond).toBeCloseTo(7.8203125, 6);
    });

    it('sizes in GiB and a dirty rate in pages/s', () => {
      const job = parseDomJobInfo(fixture('domjobinfo-running-gib.txt'));
      // Data processed: 4.598 GiB; Dirty rate: 1912 pages/s of 4096 bytes; Iteration: 143
      expect(job.processedMib).toBeCloseTo(4.598 * 1024, 3);
      expect(job.dirtyRateMibPerSecond).toBeCloseTo(7.46875, 5);
      expect(job.iteration).toBe(143);
    });

    it('a completed incoming migration on the target: downtime and iterations', () => {
      const job = parseDomJobInfo(fixture('domjobinfo-completed.txt'));
      expect(job).toMatchObject({
        type: 'Completed',
        operation: 'Incoming migration',
        elapsedMs: 5215,
        iteration: 4,
        totalDowntimeMs: 286,
      });
      expect(job.processedMib).toBeCloseTo(127.571, 3);
      expect(job.remainingMib).toBe(0);
    });

    it('no job', () => {
      expect(parseDomJobInfo(fixture('domjobinfo-none.txt'))).toMatchObject({
        type: 'None',
        processedMib: undefined,
        iteration: undefined,
      });
    });
  });

  it('sizes: every unit virsh prints, and nothing else', () => {
    expect(parseSizeMib('0.000 B')).toBe(0);
    expect(parseSizeMib('2048 KiB')).toBe(2);
    expect(parseSizeMib('1.5 GiB')).toBe(1536);
    expect(parseSizeMib('12 pages')).toBeUndefined();
    expect(parseSizeMib(undefined)).toBeUndefined();
  });
});
