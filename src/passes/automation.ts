// Which recommendations a pass applies at once, and which wait for an operator (pure).
import { PlannedMove, VmAutomation } from '../balancer/core';
import { ClusterPolicy } from '../policies/policy';

export type Decision = { apply: true } | { apply: false; why: string };

/**
 * - dry run: nothing is applied;
 * - evacuating a host an operator put into maintenance: applied at every automation level (they asked);
 * - fully automated: every move the plan makes within the threshold, except VMs set to `manual`;
 * - partially automated and manual: balancing and rule fixes wait for an operator.
 * A blackout window holds back balancing moves but never an evacuation.
 */
export function decide(
  move: Pick<PlannedMove, 'priority' | 'reason'>,
  vmAutomation: VmAutomation,
  policy: Pick<ClusterPolicy, 'automationLevel' | 'dryRun'>,
  inBlackout: boolean,
): Decision {
  if (policy.dryRun) return { apply: false, why: 'the policy is a dry run' };
  if (move.reason === 'maintenance') return { apply: true };
  if (vmAutomation === 'disabled') return { apply: false, why: 'the VM is excluded from automation' };
  if (inBlackout && move.priority > 1) return { apply: false, why: 'a blackout window is in force' };
  if (policy.automationLevel !== 'fully-automated') return { apply: false, why: `the cluster is ${policy.automationLevel}` };
  if (vmAutomation === 'manual') return { apply: false, why: 'the VM is set to manual' };
  return { apply: true };
}
