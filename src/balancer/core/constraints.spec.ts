import { CONSTRAINTS, checkMove } from './constraints';
import { DEFAULT_PLANNER_POLICY, RuleSnapshot } from './model';
import { Move, PlanningState } from './planning-state';
import { cluster, host, vm } from '../../../test/builders/builders';

const rules: RuleSnapshot[] = [
  { id: 'r1', name: 'apart', kind: 'anti-affinity', enforcement: 'hard', vmIds: ['p', 'q'] },
  { id: 'r2', name: 'together', kind: 'affinity', enforcement: 'hard', vmIds: ['g1', 'g2'] },
  { id: 'r3', name: 'not-on-c', kind: 'vm-host', enforcement: 'hard', vmIds: ['p'], hostIds: ['c'], relation: 'not-run-on' },
  { id: 'r4', name: 'soft-apart', kind: 'anti-affinity', enforcement: 'soft', vmIds: ['s', 'q'] },
];
const snap = cluster(
  [host('a'), host('b'), host('c'), host('d', 1000, 1000, 'maintenance'), host('e', 1000, 1000, 'disconnected')],
  [
    vm('p', 'a', 100, 100),
    vm('q', 'b', 100, 100),
    vm('g1', 'a', 100, 100),
    vm('g2', 'a', 100, 100),
    vm('s', 'a', 100, 100),
    vm('big', 'a', 100, 850),
    vm('fill', 'c', 100, 200),
    vm('off', 'e', 100, 100),
    vm('pin', 'a', 100, 100, { automation: 'disabled' }),
    vm('mig', 'a', 100, 100, { migrating: true }),
    vm('cool', 'a', 100, 100, { inCooldown: true }),
  ],
  rules,
  { inFlight: [{ vmId: 'mig', fromHostId: 'a', toHostId: 'c', memoryMib: 100, cpuMhz: 100 }] },
);

function verdict(state: PlanningState, vmIds: string[], to: string, purpose: Move['purpose'] = 'balance') {
  const vms = vmIds.map((id) => state.vmIndexById.get(id)!);
  const move: Move = { vms, from: state.vmHost[vms[0]], to: state.hostIndexById.get(to)!, purpose };
  return checkMove(move, state);
}

describe('constraints', () => {
  const hard = new PlanningState(snap, DEFAULT_PLANNER_POLICY, { enforceSoftRules: false });
  const soft = new PlanningState(snap, DEFAULT_PLANNER_POLICY, { enforceSoftRules: true });

  it('are small named filters', () => {
    expect(CONSTRAINTS.map((c) => c.name)).toEqual([
      'automation',
      'migrating',
      'source-reachable',
      'cooldown',
      'target-connected',
      'capacity',
      'affinity',
      'anti-affinity',
      'vm-host',
    ]);
  });

  it('allow an ordinary move', () => {
    expect(verdict(hard, ['s'], 'c')).toBeNull();
  });

  it('only target connected hosts', () => {
    expect(verdict(hard, ['s'], 'd')).toMatchObject({ constraint: 'target-connected' });
    expect(verdict(hard, ['s'], 'a')).toMatchObject({ constraint: 'target-connected' });
  });

  it('keep the target within its ceilings, counting in-flight reservations', () => {
    // c: 200 MiB used + 100 reserved; 'big' adds 850 → 1150 > 1000.
    expect(verdict(hard, ['big'], 'c')).toMatchObject({ constraint: 'capacity', code: 'no-room' });
    expect(verdict(hard, ['big'], 'c')!.explanation).toMatch(/115\.0 % memory, 100 MiB of it reserved/);
    // b: 100 used → 950 fits.
    expect(verdict(hard, ['big'], 'b')).toBeNull();
  });

  it('keep anti-affinity members apart, and soft rules only when enforced', () => {
    expect(verdict(hard, ['p'], 'b')).toMatchObject({ constraint: 'anti-affinity', code: 'rule-forbids' });
    expect(verdict(hard, ['s'], 'b')).toBeNull();
    expect(verdict(soft, ['s'], 'b')).toMatchObject({ constraint: 'anti-affinity' });
  });

  it('move affinity groups together or not at all', () => {
    expect(verdict(hard, ['g1'], 'b')).toMatchObject({ constraint: 'affinity' });
    expect(verdict(hard, ['g1', 'g2'], 'b')).toBeNull();
  });

  it('apply vm-host rules', () => {
    expect(verdict(hard, ['p'], 'c')).toMatchObject({ constraint: 'vm-host' });
  });

  it('never move disabled or migrating VMs, nor VMs of a disconnected host', () => {
    expect(verdict(hard, ['pin'], 'b', 'mandatory')).toMatchObject({ code: 'pinned' });
    expect(verdict(hard, ['mig'], 'b', 'mandatory')).toMatchObject({ code: 'migrating' });
    expect(verdict(hard, ['off'], 'b', 'mandatory')).toMatchObject({ code: 'host-unreachable' });
  });

  it('keep VMs in cooldown for mandatory moves only', () => {
    expect(verdict(hard, ['cool'], 'b', 'balance')).toMatchObject({ code: 'cooldown' });
    expect(verdict(hard, ['cool'], 'b', 'mandatory')).toBeNull();
  });
});
