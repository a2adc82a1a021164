// Ordering a compacted placement's moves. Hosts hold 1000 MHz and 1000 MiB, VMs use as many MHz
// as MiB: u is the same for both resources and I is the standard deviation of u over the hosts.
import { DEFAULT_PLANNER_POLICY } from '../model';
import { cluster, host, vm } from '../../../../test/builders/builders';
import { testAttempt } from '../../../../test/builders/test-attempt';
import { sequence } from './move-ordering';
import { UnitPlacement } from './unit-placement';

const load = (id: string, hostId: string, x: number) => vm(id, hostId, x, x);

describe('sequence (move ordering)', () => {
  it('puts first the move that makes room for the other, though the other gains more', () => {
    // Hard anti-affinity between v1 and w. Home: a 0.9 (v1 0.35, x 0.55), b 0.45 (w 0.15, y 0.3),
    // c 0.15 (z); mean 0.5, I = 0.327. Target placement: v1 on b, w on c.
    // v1 a→b alone would give (0.55, 0.8, 0.15): I = 0.268, a larger gain than w b→c alone
    // (0.9, 0.3, 0.3): I = 0.283; but v1 may not join w on b. So w b→c goes first, then v1 a→b
    // ((0.55, 0.65, 0.3): I = 0.147).
    const t = testAttempt(
      cluster(
        [host('a'), host('b'), host('c')],
        [load('v1', 'a', 350), load('x', 'a', 550), load('w', 'b', 150), load('y', 'b', 300), load('z', 'c', 150)],
        [{ id: 'r1', name: 'apart', kind: 'anti-affinity', enforcement: 'hard', vmIds: ['v1', 'w'] }],
      ),
      DEFAULT_PLANNER_POLICY,
    );
    // Recorded in the order the rule refuses; the ordering must not depend on it.
    t.move('v1', 'a', 'b');
    t.move('w', 'b', 'c');
    const steps = sequence(new UnitPlacement(t.attempt, t.home, t.units('v1', 'w', 'x', 'y', 'z')));
    expect(steps?.map((s) => `${t.state.vms[s.vms[0]].id}:${t.state.hosts[s.from].id}>${t.state.hosts[s.to].id}`)).toEqual([
      'w:b>c',
      'v1:a>b',
    ]);
    expect(t.hostsOf('v1', 'w')).toEqual(['b', 'c']);
    expect(t.state.imbalance()).toBeCloseTo(Math.sqrt((0.05 ** 2 + 0.15 ** 2 + 0.2 ** 2) / 3), 12);
  });

  it('takes the move with the larger gain first when both are allowed', () => {
    // The same cluster without the rule: v1 a→b (I 0.327 → 0.268) beats w b→c (→ 0.283).
    const t = testAttempt(
      cluster(
        [host('a'), host('b'), host('c')],
        [load('v1', 'a', 350), load('x', 'a', 550), load('w', 'b', 150), load('y', 'b', 300), load('z', 'c', 150)],
      ),
      DEFAULT_PLANNER_POLICY,
    );
    t.move('w', 'b', 'c');
    t.move('v1', 'a', 'b');
    const steps = sequence(new UnitPlacement(t.attempt, t.home, t.units('v1', 'w', 'x', 'y', 'z')));
    expect(steps?.map((s) => t.state.vms[s.vms[0]].id)).toEqual(['v1', 'w']);
  });

  it('returns null and leaves the placement as it was when no move can go first', () => {
    // Home: a, b, c each at 0.5: I = 0. Target: v1 (0.3) to b and w (0.2) to a. Whichever goes
    // first raises I from 0, so there is no order in which every move lowers I.
    const t = testAttempt(
      cluster(
        [host('a'), host('b'), host('c')],
        [load('v1', 'a', 300), load('x', 'a', 200), load('w', 'b', 200), load('y', 'b', 300), load('z', 'c', 500)],
      ),
      DEFAULT_PLANNER_POLICY,
    );
    t.move('v1', 'a', 'b');
    t.move('w', 'b', 'a');
    const p = new UnitPlacement(t.attempt, t.home, t.units('v1', 'x', 'w', 'y', 'z'));
    expect(sequence(p)).toBeNull();
    expect(t.hostsOf('v1', 'w')).toEqual(['b', 'a']);
    // Asked for the longest prefix instead, it has none: both VMs back home.
    expect(sequence(p, true)).toEqual([]);
    expect(t.hostsOf('v1', 'w')).toEqual(['a', 'b']);
  });
});
