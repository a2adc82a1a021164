import { DEFAULT_PLANNER_POLICY } from './model';
import { rankPlacement } from './placement';
import { cluster, host, vm } from '../../../test/builders/builders';

const policy = DEFAULT_PLANNER_POLICY;

describe('rankPlacement', () => {
  // a at 60 % / 60 %, b at 20 % / 20 %, c at 40 % / 40 %; d in maintenance.
  const snap = cluster(
    [host('a'), host('b'), host('c'), host('d', 1000, 1000, 'maintenance')],
    [vm('x', 'a', 600, 600), vm('y', 'b', 200, 200), vm('z', 'c', 400, 400)],
  );

  it('ranks hosts by the imbalance they leave, least loaded first', () => {
    const r = rankPlacement(snap, { name: 'new', cpuMhz: 200, memoryMib: 200 }, policy);
    expect(r.ranked.map((o) => o.hostId)).toEqual(['b', 'c', 'a']);
    // On b: loads 0.6 / 0.4 / 0.4 → σ = sqrt(((0.133)² + 2·(0.0667)²) / 3) = 0.0943 on both resources.
    expect(r.ranked[0].imbalanceAfter).toBeCloseTo(Math.sqrt((0.6 - 1.4 / 3) ** 2 / 3 + (2 * (0.4 - 1.4 / 3) ** 2) / 3), 10);
    expect(r.ranked[0].cpuAfter).toBeCloseTo(0.4, 12);
    expect(r.excluded).toEqual([expect.objectContaining({ hostId: 'd', reason: 'not-connected' })]);
  });

  it('excludes hosts without room, with the reason', () => {
    const r = rankPlacement(snap, { cpuMhz: 100, memoryMib: 500 }, policy);
    expect(r.ranked.map((o) => o.hostId)).toEqual(['b', 'c']);
    expect(r.excluded.find((e) => e.hostId === 'a')).toMatchObject({ reason: 'no-room' });
    expect(r.excluded.find((e) => e.hostId === 'a')!.explanation).toMatch(/memory/);
  });

  it('applies the rules the new VM takes part in, through its placeholder id', () => {
    const r = rankPlacement(
      snap,
      {
        vmId: 'new-db',
        cpuMhz: 100,
        memoryMib: 100,
        rules: [
          { id: 'apart', name: 'db-apart', kind: 'anti-affinity', enforcement: 'hard', vmIds: ['new-db', 'y'] },
          { id: 'lic', name: 'licensed', kind: 'vm-host', enforcement: 'soft', vmIds: ['new-db'], hostIds: ['a'], relation: 'run-on' },
        ],
      },
      policy,
    );
    expect(r.excluded.find((e) => e.hostId === 'b')).toMatchObject({ reason: 'rule-forbids' });
    // a keeps the soft rule: first despite a higher imbalance; c breaks it and says so.
    expect(r.ranked.map((o) => o.hostId)).toEqual(['a', 'c']);
    expect(r.ranked[1].softRuleViolation).toMatch(/licensed/);
  });

  it('joins a hard affinity group where it runs', () => {
    const r = rankPlacement(
      snap,
      {
        vmId: 'n',
        cpuMhz: 10,
        memoryMib: 10,
        rules: [{ id: 'tog', name: 'with-x', kind: 'affinity', enforcement: 'hard', vmIds: ['n', 'x'] }],
      },
      policy,
    );
    expect(r.ranked.map((o) => o.hostId)).toEqual(['a']);
    expect(
      r.excluded
        .filter((e) => e.reason === 'rule-forbids')
        .map((e) => e.hostId)
        .sort(),
    ).toEqual(['b', 'c']);
  });
});
