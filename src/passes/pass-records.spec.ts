import { DEFAULT_PLANNER_POLICY, PlannerPolicy, planMoves } from '../balancer/core';
import { cluster, host, vm } from '../../test/builders/builders';
import { PassEntity } from './pass.entity';
import { passEvents } from './pass-records';

// 16 hosts of 1000 MHz, CPU only: the target is 0.2 / √16 = 0.05.
const cpuOnly: PlannerPolicy = { ...DEFAULT_PLANNER_POLICY, cpuWeight: 1, memoryWeight: 0 };
const pass = { id: 'pass-1' } as PassEntity;

/** Eight hosts with one VM of `busy` MHz, eight with one of `quiet` MHz; each VM's estimate from 4 samples of spread σ. */
function build(busy: number, quiet: number, sigma: number) {
  const names = Array.from({ length: 16 }, (_, i) => `h${String(i).padStart(2, '0')}`);
  return cluster(
    names.map((h) => host(h)),
    names.map((h, i) => vm(`${h}-v`, h, i < 8 ? busy : quiet, 10, sigma > 0 ? { cpuSigmaMhz: sigma, cpuSampleCount: 4 } : {})),
  );
}

function startedMessage(busy: number, quiet: number, sigma: number) {
  const plan = planMoves(build(busy, quiet, sigma), cpuOnly);
  const started = passEvents('c1', pass, plan, 'interval').find((e) => e.type === 'pass.started')!;
  return { plan, started };
}

describe('the pass.started event', () => {
  it('says when the cluster is balanced only because the sampling noise accounts for the excess over the target', () => {
    // Hosts at 0.56 and 0.44: I = 0.06 above the target. Each host's estimate is off by σ²/k = 80² / 4 = 1600 MHz²,
    // 0.0016 of its capacity²: noise² = (1 − 1/16) · 16 · 0.0016 / 16 = 0.0015, noise 0.0387, and √(0.06² − 0.0015)
    // = 0.0458 is within the target.
    const { plan, started } = startedMessage(560, 440, 80);
    expect(plan.moves).toEqual([]);
    expect(started.message).toBe(
      'Pass (interval): imbalance 0.0600 against target 0.0500 (balanced: sampling noise of the demand estimates accounts for 0.0387); ' +
        '0 move(s) would bring it to 0.0600',
    );
    expect(started.data).toMatchObject({ balanced: true, imbalance: expect.closeTo(0.06, 12) });
  });

  it('says plainly balanced when I is within the target without the noise', () => {
    // Hosts at 0.52 and 0.48: I = 0.02, within the target whatever the noise.
    const { started } = startedMessage(520, 480, 80);
    expect(started.message).toBe('Pass (interval): imbalance 0.0200 against target 0.0500 (balanced); 0 move(s) would bring it to 0.0200');
  });

  it('says nothing of balance when the excess is real', () => {
    // The same hosts at 0.56 and 0.44 with exact estimates: nothing of I is noise. (No move helps: each host holds one VM.)
    const { started } = startedMessage(560, 440, 0);
    expect(started.message).toBe('Pass (interval): imbalance 0.0600 against target 0.0500; 0 move(s) would bring it to 0.0600');
    expect(started.data).toMatchObject({ balanced: false, samplingNoise: 0 });
  });
});
