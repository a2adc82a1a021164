// Compaction of hand-recorded greedy steps. Every host holds 1000 MHz and 1000 MiB and every VM
// uses as many MHz as MiB, so both resources have the same utilizations u and I is simply the
// population standard deviation of u over the hosts.
import { DEFAULT_PLANNER_POLICY, PlannerPolicy } from '../model';
import { cluster, host, vm } from '../../../../test/builders/builders';
import { testAttempt } from '../../../../test/builders/test-attempt';
import { compactBalancing } from './large-cluster';

const hosts = () => [host('a'), host('b'), host('c')];
const load = (id: string, hostId: string, x: number, extra = {}) => vm(id, hostId, x, x, extra);
/** Threshold 5: the target is low enough that none of these states counts as balanced. */
const policy: PlannerPolicy = { ...DEFAULT_PLANNER_POLICY, migrationThreshold: 5 };

describe('compactBalancing (large-cluster compaction)', () => {
  it('merges a chain A→B→C into the one move A→C, and gives back the budget of the other', () => {
    // Before: a 0.6 (v1, x), b 0.3 (y), c 0. The greedy moved v1 a→b, then b→c: a, b, c all at 0.3.
    // Net effect: v1 a→c, a single move that by itself lowers I (0.245 → 0).
    const t = testAttempt(cluster(hosts(), [load('v1', 'a', 300), load('x', 'a', 300), load('y', 'b', 300)]), policy);
    t.move('v1', 'a', 'b');
    t.move('v1', 'b', 'c');
    compactBalancing(t.attempt, t.home, t.units('v1', 'x', 'y'), { localSearchBudget: 0 });
    expect(t.steps()).toEqual(['v1:a>c']);
    expect(t.hostsOf('v1', 'x', 'y')).toEqual(['c', 'a', 'b']);
    expect(t.attempt.totalMoves).toBe(1);
    expect(Array.from(t.attempt.hostMoves)).toEqual([1, 0, 1]);
    expect(t.state.imbalance()).toBeCloseTo(0, 12);
  });

  it('drops a move that a later move undoes', () => {
    // Before: a 0.6 (v1, x), b 0.3 (y), c 0. Steps: v1 a→b, x a→c, v1 b→a. v1 ends where it
    // started, so only x a→c is left (a, b, c at 0.3).
    const t = testAttempt(cluster(hosts(), [load('v1', 'a', 300), load('x', 'a', 300), load('y', 'b', 300)]), policy);
    t.move('v1', 'a', 'b');
    t.move('x', 'a', 'c');
    t.move('v1', 'b', 'a');
    compactBalancing(t.attempt, t.home, t.units('v1', 'x', 'y'), { localSearchBudget: 0 });
    expect(t.steps()).toEqual(['x:a>c']);
    expect(t.attempt.totalMoves).toBe(1);
  });

  it('drops a move that does not make the plan any better balanced', () => {
    // Before: a 0.6 (big, x), b 0.3 (y 0.25, s 0.05), c 0; mean 0.3. Steps: big a→c (a, b, c
    // all at 0.3: I = 0), then s b→c (b 0.25, c 0.35: I = √((0.05² + 0.05²)/3) = 0.041). Undoing
    // s brings I back to 0, no worse than the greedy's 0.041: s is dropped. Undoing big would
    // raise I (a 0.6, b 0.25, c 0.05): big stays.
    const t = testAttempt(cluster(hosts(), [load('big', 'a', 300), load('x', 'a', 300), load('y', 'b', 250), load('s', 'b', 50)]), policy);
    t.move('big', 'a', 'c');
    t.move('s', 'b', 'c');
    expect(t.state.imbalance()).toBeCloseTo(Math.sqrt(0.005 / 3), 12);
    compactBalancing(t.attempt, t.home, t.units('big', 's', 'x', 'y'), { localSearchBudget: 0 });
    expect(t.steps()).toEqual(['big:a>c']);
    expect(t.hostsOf('big', 's')).toEqual(['c', 'b']);
    expect(t.attempt.totalMoves).toBe(1);
    expect(t.state.imbalance()).toBeCloseTo(0, 12);
  });

  it('replaces two moves by one better move when the local search may run', () => {
    // Before: a 0.9 (pinned 0.32, big 0.3, p 0.14, q 0.14), b 0.3 (y), c 0; mean 0.4.
    // The greedy moved p and q to c: a 0.62, b 0.3, c 0.28, I = √((0.22² + 0.1² + 0.12²)/3) = 0.1558.
    // Undoing both and moving big a→c instead: a 0.6, b 0.3, c 0.3, I = √(0.06/3) = 0.1414, with
    // one move: better balanced and fewer moves. No single move does better (big a→b: 0.283;
    // p or q alone: 0.263 to c, 0.310 to b), so that is the compacted plan.
    const t = testAttempt(
      cluster(hosts(), [
        load('pinned', 'a', 320, { automation: 'disabled' }),
        load('big', 'a', 300),
        load('p', 'a', 140),
        load('q', 'a', 140),
        load('y', 'b', 300),
      ]),
      policy,
    );
    t.move('p', 'a', 'c');
    t.move('q', 'a', 'c');
    expect(t.state.imbalance()).toBeCloseTo(Math.sqrt((0.22 ** 2 + 0.1 ** 2 + 0.12 ** 2) / 3), 12);
    compactBalancing(t.attempt, t.home, t.units('big', 'p', 'q'), { localSearchBudget: 1_000_000 });
    expect(t.steps()).toEqual(['big:a>c']);
    expect(t.state.imbalance()).toBeCloseTo(Math.sqrt(0.02), 12);
  });

  it('keeps the two moves when the local search may not run', () => {
    // Same cluster; with no search budget only net effects and useless moves are looked at, and
    // neither p nor q can be undone without raising I above 0.1558.
    const t = testAttempt(
      cluster(hosts(), [
        load('pinned', 'a', 320, { automation: 'disabled' }),
        load('big', 'a', 300),
        load('p', 'a', 140),
        load('q', 'a', 140),
        load('y', 'b', 300),
      ]),
      policy,
    );
    t.move('p', 'a', 'c');
    t.move('q', 'a', 'c');
    compactBalancing(t.attempt, t.home, t.units('big', 'p', 'q'), { localSearchBudget: 0 });
    expect(t.steps()).toEqual(['p:a>c', 'q:a>c']);
  });
});
