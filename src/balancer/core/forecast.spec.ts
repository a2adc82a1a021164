import { cluster, host, vm } from '../../../test/builders/builders';
import { cpuPeak, cpuVarianceOf, FORECAST_Z } from './forecast';
import { DEFAULT_PLANNER_POLICY } from './model';
import { planMoves } from './planner';
import { PlanningState } from './planning-state';

const policy = { ...DEFAULT_PLANNER_POLICY };
const stateOf = (snapshot: ReturnType<typeof cluster>) => new PlanningState(snapshot, policy, { enforceSoftRules: true });

describe('cpuPeak', () => {
  it('adds z × sqrt(Σ σ²) to the mean load: 300 (σ 30) and 400 (σ 40) MHz on 1,000 MHz', () => {
    const state = stateOf(
      cluster([host('a'), host('b')], [vm('x', 'a', 300, 10, { cpuSigmaMhz: 30 }), vm('y', 'a', 400, 10, { cpuSigmaMhz: 40 })]),
    );
    const a = state.hostIndexById.get('a')!;
    // Σ σ² = 900 + 1600 = 2500, sqrt 50: (700 + 1.2816 × 50) / 1000.
    expect(FORECAST_Z).toBe(1.2816);
    expect(cpuPeak(state, a)).toBeCloseTo(0.76408, 12);
    expect(cpuPeak(state, state.hostIndexById.get('b')!)).toBe(0);
  });

  it('follows the VMs as they move, and forecasts a move before it is made', () => {
    const state = stateOf(
      cluster([host('a'), host('b')], [vm('x', 'a', 300, 10, { cpuSigmaMhz: 30 }), vm('y', 'a', 400, 10, { cpuSigmaMhz: 40 })]),
    );
    const [a, b] = [state.hostIndexById.get('a')!, state.hostIndexById.get('b')!];
    const y = state.vmIndexById.get('y')!;
    expect(cpuVarianceOf(state, [y])).toBe(1600);
    // y to b, forecast: (400 + 1.2816 × 40) / 1000.
    expect(cpuPeak(state, b, 400, 1600)).toBeCloseTo(0.451264, 12);
    state.placeVm(y, b);
    expect(cpuPeak(state, b)).toBeCloseTo(0.451264, 12);
    expect(cpuPeak(state, a)).toBeCloseTo((300 + 1.2816 * 30) / 1000, 12);
  });

  it('counts a powered-off VM for nothing', () => {
    const state = stateOf(cluster([host('a')], [vm('x', 'a', 300, 10, { cpuSigmaMhz: 30, poweredOn: false })]));
    expect(cpuPeak(state, 0)).toBe(0);
  });
});

describe('the planner on forecast peaks', () => {
  // a: four VMs of 200 MHz swinging by 100 each, mean 80 %, forecast (800 + 1.2816 × 200) / 1000 = 105.6 %;
  // b and c steady at 65 %. On the means the cluster is balanced (I = 0.05, target 0.115; gap 15 points).
  const swinging = (sigma: number) =>
    cluster(
      [host('a'), host('b'), host('c')],
      [...['p', 'q', 'r', 's'].map((id) => vm(id, 'a', 200, 10, { cpuSigmaMhz: sigma })), vm('t', 'b', 650, 10), vm('u', 'c', 650, 10)],
    );

  it('relieves a host whose mean fits but whose forecast peak is above the ceiling', () => {
    const plan = planMoves(swinging(100), policy);
    expect(plan.moves).toHaveLength(1);
    // To b: (850 + 1.2816 × 100) / 1000 = 97.8 %, under the ceiling; a keeps (600 + 1.2816 × 173.2) / 1000 = 82.2 %.
    expect(plan.moves[0]).toMatchObject({ fromHostId: 'a', toHostId: 'b', reason: 'contention', priority: 2 });
    expect(plan.moves[0].explanation).toContain('at 80.0 % of capacity on average');
    expect(plan.moves[0].explanation).toContain('reach 105.6 % one interval in ten');
  });

  it('leaves the same means alone when the VMs are steady', () => {
    expect(planMoves(swinging(0), policy).moves).toEqual([]);
  });

  it('does not fill a target past the ceiling at its forecast peak', () => {
    // a is at 120 %; b at 50 % but swinging (two VMs σ 200: forecast 50 % + 1.2816 × 283 / 1000 = 86.2 %);
    // c steady at 60 %. The 300 MHz VM fits b on the mean (80 %) but not at b's peak (116.2 %): it goes to c.
    const snap = cluster(
      [host('a'), host('b'), host('c')],
      [
        vm('x', 'a', 300, 10),
        vm('y', 'a', 900, 10),
        vm('p', 'b', 250, 10, { cpuSigmaMhz: 200 }),
        vm('q', 'b', 250, 10, { cpuSigmaMhz: 200 }),
        vm('r', 'c', 600, 10),
      ],
    );
    const plan = planMoves(snap, policy);
    expect(plan.moves[0]).toMatchObject({ vmId: 'x', fromHostId: 'a', toHostId: 'c', reason: 'contention' });
    expect(plan.moves.some((m) => m.toHostId === 'b' && m.vmId === 'x')).toBe(false);
  });
});
