// The small-cluster search against a brute force. Hosts hold 1000 MHz and 1000 MiB and every VM
// uses as many MHz as MiB, so with the default weights (½, ½) SAD is Σ_h |u_h − mean u|.
import { DEFAULT_PLANNER_POLICY } from '../model';
import { cluster, host, vm } from '../../../../test/builders/builders';
import { testAttempt } from '../../../../test/builders/test-attempt';
import { lowestSadWithin } from './small-cluster-search';

const HOSTS = ['a', 'b', 'c'];
/** Five VMs (MHz = MiB); any placement fits on any host (850 in all). */
const VMS: [id: string, home: string, size: number][] = [
  ['v1', 'a', 310],
  ['v2', 'a', 220],
  ['v3', 'a', 170],
  ['v4', 'b', 90],
  ['v5', 'b', 60],
];

function snapshot() {
  return cluster(
    HOSTS.map((h) => host(h)),
    VMS.map(([id, home, size]) => vm(id, home, size, size)),
  );
}

/** Σ_h |u_h − mean| of a placement (host index per VM), written out from the definition. */
function sadOf(placement: number[]): number {
  const u = HOSTS.map(() => 0);
  placement.forEach((h, i) => (u[h] += VMS[i][2] / 1000));
  const mean = u.reduce((x, y) => x + y, 0) / u.length;
  return u.reduce((sum, x) => sum + Math.abs(x - mean), 0);
}

/** The lowest SAD over all 3⁵ placements that move at most k VMs away from their home. */
function bruteForce(k: number): number {
  const home = VMS.map(([, h]) => HOSTS.indexOf(h));
  let best = Infinity;
  for (let code = 0; code < HOSTS.length ** VMS.length; code++) {
    const placement = VMS.map((_, i) => Math.floor(code / HOSTS.length ** i) % HOSTS.length);
    const moved = placement.filter((h, i) => h !== home[i]).length;
    if (moved <= k) best = Math.min(best, sadOf(placement));
  }
  return best;
}

function search(k: number) {
  const t = testAttempt(snapshot(), DEFAULT_PLANNER_POLICY);
  const sad = lowestSadWithin(t.attempt, t.home, t.units(...VMS.map(([id]) => id)), k);
  const hosts = t.hostsOf(...VMS.map(([id]) => id));
  const moved = hosts.filter((h, i) => h !== VMS[i][1]).length;
  return { sad, hosts, moved, t };
}

describe('lowestSadWithin (small-cluster search)', () => {
  it('with one move, sends the largest VM of the loaded host to the empty one (worked by hand)', () => {
    // Home: a 0.70, b 0.15, c 0; mean 0.2833; SAD = 0.4167 + 0.1333 + 0.2833 = 0.8333.
    // v1 (0.31) a→c: a 0.39, b 0.15, c 0.31 → SAD 0.1067 + 0.1333 + 0.0267 = 0.2667; the next best
    // single moves are v1 a→b (0.5667) and v2 a→c (0.5733).
    const r = search(1);
    expect(r.hosts).toEqual(['c', 'a', 'a', 'b', 'b']);
    expect(r.sad).toBeCloseTo(0.8 / 3, 9);
  });

  it.each([1, 2, 3])('finds the lowest SAD a brute force finds with at most %i moved VMs', (k) => {
    const r = search(k);
    expect(r.moved).toBeLessThanOrEqual(k);
    // The SAD it reports is the one of the placement it leaves.
    expect(r.sad).toBeCloseTo(sadOf(r.hosts.map((h) => HOSTS.indexOf(h))), 9);
    expect(r.sad).toBeCloseTo(bruteForce(k), 9);
  });

  it('does better with each move it may add, here up to three', () => {
    // Sanity of the instance itself: the brute force's optimum keeps falling (0.833, 0.267, 0.127, 0.053).
    expect(bruteForce(1)).toBeLessThan(bruteForce(0) - 0.1);
    expect(bruteForce(2)).toBeLessThan(bruteForce(1) - 0.1);
    expect(bruteForce(3)).toBeLessThan(bruteForce(2) - 0.05);
    expect(search(3).sad).toBeLessThan(search(2).sad - 0.05);
  });
});
