import {
  adoptedDeadlineMs,
  adoptedEnd,
  attemptEnd,
  cancelAction,
  claimDecision,
  interruptedEnd,
  knownLocation,
  mayAdopt,
  type AttemptFacts,
  type HostRef,
  type Parties,
  type VmRef,
} from './attempt-outcome';
import type { MigrationHandle, MigrationOutcome } from './drivers';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const SECOND = 1000;
const settings = { retryBackoffSeconds: 30, attemptLimitText: '600 s', killSignal: 'SIGTERM' as const };

const facts = (over: Partial<AttemptFacts> = {}): AttemptFacts => ({
  attempt: 1,
  maxAttempts: 3,
  cancelRequested: false,
  timedOut: false,
  stopping: false,
  ...over,
});
const succeeded: MigrationOutcome = { status: 'succeeded', downtimeMs: 120, rounds: 3, copiedMib: 9000, durationSeconds: 42 };
const failed = (transient: boolean, error = 'ssh: connection reset'): MigrationOutcome => ({ status: 'failed', error, transient });

describe('attemptEnd: how an attempt the service ran ends', () => {
  it('records a success with what the driver measured', () => {
    expect(attemptEnd(facts(), succeeded, settings, NOW)).toEqual({ state: 'succeeded', outcome: succeeded, note: null });
  });

  describe('retry', () => {
    it('puts a transient failure back in the queue after the backoff, keeping its error', () => {
      expect(attemptEnd(facts({ attempt: 1 }), failed(true), settings, NOW)).toEqual({
        state: 'queued',
        error: 'ssh: connection reset',
        nextAttemptAt: NOW + 30 * SECOND,
      });
    });

    it('doubles the wait with each failed attempt', () => {
      const second = attemptEnd(facts({ attempt: 2, maxAttempts: 5 }), failed(true), settings, NOW);
      const third = attemptEnd(facts({ attempt: 3, maxAttempts: 5 }), failed(true), settings, NOW);
      expect(second).toMatchObject({ state: 'queued', nextAttemptAt: NOW + 60 * SECOND });
      expect(third).toMatchObject({ state: 'queued', nextAttemptAt: NOW + 120 * SECOND });
    });

    it('fails a transient failure on the last attempt', () => {
      expect(attemptEnd(facts({ attempt: 3, maxAttempts: 3 }), failed(true), settings, NOW)).toEqual({
        state: 'failed',
        error: 'ssh: connection reset',
      });
    });

    it('never retries a failure that is not transient, even with attempts left', () => {
      expect(attemptEnd(facts({ attempt: 1, maxAttempts: 3 }), failed(false, 'target refused: CPU model'), settings, NOW)).toEqual({
        state: 'failed',
        error: 'target refused: CPU model',
      });
    });

    it('retries when the driver stopped the migration without being asked', () => {
      const end = attemptEnd(facts(), { status: 'cancelled' }, settings, NOW);
      expect(end).toEqual({
        state: 'queued',
        error: 'the driver stopped the migration without being asked to',
        nextAttemptAt: NOW + 30 * SECOND,
      });
    });
  });

  describe('timeout', () => {
    it('fails an attempt stopped at the time limit, naming the limit, without a retry', () => {
      const end = attemptEnd(facts({ attempt: 2, maxAttempts: 3, timedOut: true }), { status: 'cancelled' }, settings, NOW);
      expect(end).toEqual({ state: 'failed', error: 'timed out: attempt 2 did not finish within 600 s; the VM stays on its source' });
    });

    it('counts a switch-over that finished at the limit as a success', () => {
      expect(attemptEnd(facts({ timedOut: true }), succeeded, settings, NOW).state).toBe('succeeded');
    });
  });

  describe('cancel', () => {
    it('ends a running migration cancelled, with no error, when the driver stopped as asked', () => {
      expect(attemptEnd(facts({ cancelRequested: true }), { status: 'cancelled' }, settings, NOW)).toEqual({
        state: 'cancelled',
        error: null,
      });
    });

    it('lets a switch-over that won the race against the cancel succeed', () => {
      expect(attemptEnd(facts({ cancelRequested: true }), succeeded, settings, NOW).state).toBe('succeeded');
    });

    it('cancels rather than retries an attempt that was already failing when the cancel came', () => {
      expect(attemptEnd(facts({ cancelRequested: true }), failed(true), settings, NOW)).toEqual({
        state: 'cancelled',
        error: 'ssh: connection reset',
      });
    });

    it('cancels an attempt that timed out after the cancel was asked', () => {
      const end = attemptEnd(facts({ cancelRequested: true, timedOut: true }), { status: 'cancelled' }, settings, NOW);
      expect(end.state).toBe('cancelled');
    });
  });

  describe('shutdown', () => {
    it('leaves an attempt interrupted by shutdown running, for the next start to settle', () => {
      expect(attemptEnd(facts({ stopping: true }), { status: 'cancelled' }, settings, NOW)).toEqual({
        state: 'running',
        because: 'shutdown',
      });
      expect(attemptEnd(facts({ stopping: true }), failed(true), settings, NOW).state).toBe('running');
    });

    it('leaves work that outlives the service running, to be adopted', () => {
      expect(attemptEnd(facts(), { status: 'detached' }, settings, NOW)).toEqual({ state: 'running', because: 'detached' });
    });

    it('still records a cancel asked before the shutdown', () => {
      expect(attemptEnd(facts({ stopping: true, cancelRequested: true }), { status: 'cancelled' }, settings, NOW).state).toBe('cancelled');
    });
  });
});

const vm = (hostId: string): VmRef => ({ id: 'vm1', name: 'web-1', clusterId: 'c1', hostId, memoryMib: 4096 });
const host = (id: string, name: string, state = 'connected'): HostRef => ({ id, name, address: null, state, migrationGbps: 10 });
const everyone = (vmHost = 'h1', targetState = 'connected'): Parties => ({
  vm: vm(vmHost),
  source: host('h1', 'esx-1'),
  target: host('h2', 'esx-2', targetState),
});

describe('claimDecision: a queued migration picked to start', () => {
  const queued = { sourceHostId: 'h1', targetHostId: 'h2', cancelRequestedAt: null };

  it('starts when the VM is still on its source and the target is connected', () => {
    expect(claimDecision(queued, everyone())).toEqual({ start: true });
  });

  it('is cancelled when a cancel came while its last attempt was ending', () => {
    expect(claimDecision({ ...queued, cancelRequestedAt: NOW }, everyone())).toEqual({ start: false, state: 'cancelled', error: null });
  });

  it.each([
    ['the VM was deleted', { ...everyone(), vm: null }, 'its VM was deleted while the migration was queued'],
    ['the target was deleted', { ...everyone(), target: null }, 'its target host was deleted while the migration was queued'],
    ['the VM already runs on the target', everyone('h2'), 'web-1 already runs on esx-2'],
    ['the VM moved elsewhere', everyone('h9'), 'web-1 moved to another host while the migration was queued'],
    ['the target is in maintenance', everyone('h1', 'maintenance'), 'target esx-2 is maintenance'],
  ])('fails without starting when %s', (_, parties, error) => {
    expect(claimDecision(queued, parties)).toEqual({ start: false, state: 'failed', error });
  });
});

const handle: MigrationHandle = { kind: 'process', pid: 4242, startTime: 991, pgid: 4242, bootId: 'boot-1' };
const leftRunning = (over: Record<string, unknown> = {}) => ({
  id: 'm1',
  vmId: 'vm1',
  sourceHostId: 'h1',
  targetHostId: 'h2',
  attempts: 1,
  maxAttempts: 3,
  cancelRequestedAt: null as number | null,
  handle: null as MigrationHandle | null,
  driver: 'command',
  startedAt: (NOW - 60 * SECOND) as number | null,
  ...over,
});

describe('restart: a migration left running', () => {
  describe('whether its work is followed', () => {
    it('looks for the work when the driver can adopt it and the VM and hosts still exist', () => {
      expect(mayAdopt(everyone(), true)).toBe(true);
    });

    it('does not when the driver cannot follow work (simulated) or a party was deleted', () => {
      expect(mayAdopt(everyone(), false)).toBe(false);
      expect(mayAdopt({ ...everyone(), vm: null }, true)).toBe(false);
      expect(mayAdopt({ ...everyone(), source: null }, true)).toBe(false);
    });

    it('asks the driver where the VM is only when the inventory cannot tell', () => {
      expect(knownLocation(leftRunning(), everyone('h1'))).toBeNull();
      expect(knownLocation(leftRunning(), everyone('h2'))).toBe('target');
      expect(knownLocation(leftRunning(), { ...everyone(), target: null })).toBe('unknown');
    });
  });

  describe('with no work to follow (reconcile)', () => {
    it('succeeds when the inventory already has the VM on its target', () => {
      const end = interruptedEnd(leftRunning(), everyone('h2'), 'unknown', 'command', settings, NOW);
      expect(end).toEqual({
        state: 'succeeded',
        outcome: null,
        note: 'interrupted by a restart during attempt 1; the inventory already had the VM on the target',
      });
    });

    it('succeeds when the driver finds the VM on its target', () => {
      const end = interruptedEnd(leftRunning(), everyone('h1'), 'target', 'command', settings, NOW);
      expect(end).toMatchObject({ state: 'succeeded', note: expect.stringContaining('the command driver found the VM on the target') });
    });

    it('goes back to the queue at once when the VM is on its source and nothing had started', () => {
      const end = interruptedEnd(leftRunning(), everyone('h1'), 'source', 'command', settings, NOW);
      expect(end).toEqual({
        state: 'queued',
        error: 'interrupted by a restart during attempt 1; the VM stayed on its source, so it runs again',
        nextAttemptAt: null,
      });
    });

    it('waits the backoff, and warns, when work a driver no longer configured had started may still run', () => {
      const end = interruptedEnd(leftRunning({ handle, driver: 'command' }), everyone('h1'), 'source', 'simulated', settings, NOW);
      expect(end).toMatchObject({ state: 'queued', nextAttemptAt: NOW + 30 * SECOND });
      expect(end.state === 'queued' && end.error).toContain("the command driver's work (pid 4242) cannot be followed, it may still run");
    });

    it('fails on its last attempt when the VM stayed on its source', () => {
      const end = interruptedEnd(leftRunning({ attempts: 3, maxAttempts: 3 }), everyone('h1'), 'source', 'command', settings, NOW);
      expect(end).toEqual({ state: 'failed', error: 'interrupted by a restart during attempt 3, its last; the VM stayed on its source' });
    });

    it('is cancelled when a cancel had been asked and the VM stayed on its source', () => {
      const end = interruptedEnd(leftRunning({ cancelRequestedAt: NOW - SECOND }), everyone('h1'), 'source', 'command', settings, NOW);
      expect(end).toMatchObject({ state: 'cancelled', error: expect.stringContaining('cancelled as asked, the VM stayed on its source') });
    });

    it('fails, asking the operator to check, when the driver cannot tell where the VM is', () => {
      const end = interruptedEnd(leftRunning(), everyone('h1'), 'unknown', 'command', settings, NOW);
      expect(end.state).toBe('failed');
      expect(end.state === 'failed' && end.error).toBe(
        'interrupted by a restart during attempt 1; the command driver could not tell where the VM runs, so it stays recorded on its source: ' +
          'check it and sync the inventory',
      );
    });

    it('fails saying what was deleted when the VM or a host is gone', () => {
      expect(interruptedEnd(leftRunning(), { ...everyone(), vm: null }, 'unknown', 'command', settings, NOW)).toEqual({
        state: 'failed',
        error: 'interrupted by a restart during attempt 1; its VM no longer exists',
      });
      expect(interruptedEnd(leftRunning(), { ...everyone(), source: null }, 'unknown', 'command', settings, NOW)).toEqual({
        state: 'failed',
        error: 'interrupted by a restart during attempt 1; one of its hosts no longer exists',
      });
    });
  });

  describe('with an adopted command, once it is gone', () => {
    const context = { driverName: 'command', settings };

    it('succeeds when the command had moved the VM', () => {
      const end = adoptedEnd(leftRunning({ handle }), handle, { status: 'ended', output: '' }, 'target', false, context, NOW);
      expect(end).toMatchObject({ state: 'succeeded', outcome: null });
      expect(end.state === 'succeeded' && end.note).toContain('the command it had started (pid 4242) ended, its exit status unknown');
    });

    it('runs again after the backoff when the command ended and the VM is on its source, quoting its last output', () => {
      const end = adoptedEnd(
        leftRunning({ handle, attempts: 2 }),
        handle,
        { status: 'ended', output: 'error: lost connection to esx-2' },
        'source',
        false,
        context,
        NOW,
      );
      expect(end).toMatchObject({ state: 'queued', nextAttemptAt: NOW + 60 * SECOND });
      expect(end.state === 'queued' && end.error).toContain('(its last output: error: lost connection to esx-2)');
    });

    it('quotes only the end of a long output', () => {
      const output = 'x'.repeat(2000) + 'THE END';
      const end = adoptedEnd(leftRunning({ handle }), handle, { status: 'ended', output }, 'source', false, context, NOW);
      const error = end.state === 'queued' ? end.error : '';
      expect(error).toContain('THE END)');
      expect(error.length).toBeLessThan(800);
    });

    it('is cancelled when the command was stopped as asked and the VM stayed', () => {
      const end = adoptedEnd(leftRunning({ handle }), handle, { status: 'cancelled', output: '' }, 'source', true, context, NOW);
      expect(end.state).toBe('cancelled');
      expect(end.state === 'cancelled' && end.error).toContain('(pid 4242) was stopped (SIGTERM) as asked');
    });

    it('succeeds all the same when the command finished the move before the cancel stopped it', () => {
      expect(adoptedEnd(leftRunning({ handle }), handle, { status: 'cancelled', output: '' }, 'target', true, context, NOW).state).toBe(
        'succeeded',
      );
    });

    it('says the command ran past the time limit when it was stopped for it', () => {
      const end = adoptedEnd(
        leftRunning({ handle, attempts: 3, maxAttempts: 3 }),
        handle,
        { status: 'timed-out', output: '' },
        'source',
        false,
        context,
        NOW,
      );
      expect(end.state).toBe('failed');
      expect(end.state === 'failed' && end.error).toContain('ran past the time limit (600 s) and was stopped');
    });

    it('fails, asking for a check, when the driver cannot tell where the VM is', () => {
      const end = adoptedEnd(leftRunning({ handle }), handle, { status: 'ended', output: '' }, 'unknown', false, context, NOW);
      expect(end.state).toBe('failed');
      expect(end.state === 'failed' && end.error).toContain('could not tell where the VM runs, so it stays recorded on its source');
    });

    it('stops the adopted command at the time limit counted from its start', () => {
      expect(adoptedDeadlineMs({ startedAt: NOW - 60 * SECOND }, 600 * SECOND)).toBe(NOW + 540 * SECOND);
      expect(adoptedDeadlineMs({ startedAt: null }, 600 * SECOND)).toBeNull();
    });
  });
});

describe('cancelAction', () => {
  it('cancels a queued migration at once and asks a running one to stop', () => {
    expect(cancelAction('queued')).toBe('cancel-now');
    expect(cancelAction('running')).toBe('request-stop');
  });

  it('refuses to cancel a migration that already ended', () => {
    expect(['succeeded', 'failed', 'cancelled'].map((s) => cancelAction(s as 'failed'))).toEqual([
      'already-ended',
      'already-ended',
      'already-ended',
    ]);
  });
});
