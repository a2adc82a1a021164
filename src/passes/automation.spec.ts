import { decide } from './automation';

const balancing = { priority: 3, reason: 'balance-cpu' as const };
const evacuation = { priority: 1, reason: 'maintenance' as const };
const ruleFix = { priority: 1, reason: 'rule-violation' as const };
const policy = (automationLevel: 'manual' | 'partially-automated' | 'fully-automated', dryRun = false) => ({ automationLevel, dryRun });

describe('which moves a pass applies', () => {
  it('fully automated: applies balancing moves and rule fixes', () => {
    expect(decide(balancing, 'default', policy('fully-automated'), false)).toEqual({ apply: true });
    expect(decide(ruleFix, 'default', policy('fully-automated'), false)).toEqual({ apply: true });
  });

  it('partially automated and manual: balancing waits for an operator', () => {
    expect(decide(balancing, 'default', policy('partially-automated'), false)).toEqual({
      apply: false,
      why: 'the cluster is partially-automated',
    });
    expect(decide(ruleFix, 'default', policy('manual'), false)).toEqual({ apply: false, why: 'the cluster is manual' });
  });

  it('evacuates a host in maintenance at every automation level, and during a blackout', () => {
    for (const level of ['manual', 'partially-automated', 'fully-automated'] as const) {
      expect(decide(evacuation, 'default', policy(level), true)).toEqual({ apply: true });
    }
  });

  it('holds balancing back during a blackout window, but not a mandatory rule fix', () => {
    expect(decide(balancing, 'default', policy('fully-automated'), true)).toEqual({ apply: false, why: 'a blackout window is in force' });
    expect(decide(ruleFix, 'default', policy('fully-automated'), true)).toEqual({ apply: true });
  });

  it('leaves VMs set to manual, or excluded from automation, to the operator', () => {
    expect(decide(balancing, 'manual', policy('fully-automated'), false)).toEqual({ apply: false, why: 'the VM is set to manual' });
    expect(decide(balancing, 'disabled', policy('fully-automated'), false)).toEqual({
      apply: false,
      why: 'the VM is excluded from automation',
    });
  });

  it('applies nothing in a dry run, not even an evacuation', () => {
    expect(decide(evacuation, 'default', policy('fully-automated', true), false)).toEqual({ apply: false, why: 'the policy is a dry run' });
    expect(decide(balancing, 'default', policy('fully-automated', true), false)).toEqual({ apply: false, why: 'the policy is a dry run' });
  });
});
