// A planning attempt over a hand-written cluster, with balancing steps recorded by hand, for the
// compaction specs: the greedy's output is whatever the spec says it is.
import { PlanAttempt, Step } from '../../src/balancer/core/attempt';
import { incrementalSearch } from '../../src/balancer/core/balancing';
import { ClusterSnapshot, DEFAULT_PLANNER_POLICY, PlannerPolicy } from '../../src/balancer/core/model';
import { PlanningState } from '../../src/balancer/core/planning-state';

export interface TestAttempt {
  state: PlanningState;
  attempt: PlanAttempt;
  /** Hosts of the VMs before any balancing step (the compaction's "home"). */
  home: Int32Array;
  /** Units of the named VMs, in index order. */
  units(...vmIds: string[]): Int32Array;
  /** Records a balancing step of one VM, as the greedy would. */
  move(vmId: string, fromHostId: string, toHostId: string): void;
  /** The attempt's steps, as "vm:from>to". */
  steps(): string[];
  /** Host id each named VM is on now. */
  hostsOf(...vmIds: string[]): string[];
}

export function testAttempt(snapshot: ClusterSnapshot, policy: PlannerPolicy = DEFAULT_PLANNER_POLICY): TestAttempt {
  const state = new PlanningState(snapshot, policy, { enforceSoftRules: true });
  const attempt = new PlanAttempt(state, incrementalSearch);
  const vm = (id: string) => state.vmIndexById.get(id)!;
  const host = (id: string) => state.hostIndexById.get(id)!;
  const describe = (s: Step) => `${s.vms.map((v) => state.vms[v].id).join('+')}:${state.hosts[s.from].id}>${state.hosts[s.to].id}`;
  return {
    state,
    attempt,
    home: Int32Array.from(state.vmHost),
    units: (...vmIds) => Int32Array.from([...new Set(vmIds.map((id) => state.unitOfVm[vm(id)]))].sort((a, b) => a - b)),
    move: (vmId, from, to) => attempt.record({ vms: [vm(vmId)], from: host(from), to: host(to), kind: 'balance', reason: null }),
    steps: () => attempt.steps.map(describe),
    hostsOf: (...vmIds) => vmIds.map((id) => state.hosts[state.vmHost[vm(id)]].id),
  };
}
