// Initial placement of a new VM: the same scoring and hard checks as the planner. Hosts are ranked
// by the imbalance they leave (those keeping every soft rule first); every other host is listed
// with the reason it is excluded.
import { checkMove } from './constraints';
import { ClusterSnapshot, DEFAULT_PLANNER_POLICY, NotMovedReason, PlannerPolicy, RuleSnapshot, VmSnapshot } from './model';
import { PlanningState } from './planning-state';
import { compareIds } from './scoring';

export interface PlacementRequest {
  /** Placeholder id of the new VM, as used in `rules` (and in any snapshot rule that should apply). */
  vmId?: string;
  name?: string;
  cpuMhz: number;
  memoryMib: number;
  /** Defaults to memoryMib. */
  configuredMemoryMib?: number;
  /** Rules the new VM takes part in, with its placeholder id among their vmIds (groups resolved). */
  rules?: RuleSnapshot[];
}

export interface PlacementOption {
  hostId: string;
  hostName: string;
  imbalanceAfter: number;
  cpuAfter: number;
  memoryAfter: number;
  /** Set when this host breaks a soft rule: such hosts rank after all hosts that keep them. */
  softRuleViolation?: string;
}

export interface PlacementExclusion {
  hostId: string;
  hostName: string;
  reason: NotMovedReason | 'not-connected';
  explanation: string;
}

export interface PlacementRanking {
  vmId: string;
  imbalanceBefore: number;
  ranked: PlacementOption[];
  excluded: PlacementExclusion[];
}

export const NEW_VM_PLACEHOLDER_ID = 'new-vm';

export function rankPlacement(
  snapshot: ClusterSnapshot,
  request: PlacementRequest,
  policy: PlannerPolicy = DEFAULT_PLANNER_POLICY,
): PlacementRanking {
  const vmId = request.vmId ?? NEW_VM_PLACEHOLDER_ID;
  const newVm: VmSnapshot = {
    id: vmId,
    name: request.name ?? vmId,
    hostId: '',
    poweredOn: true,
    cpuMhz: request.cpuMhz,
    memoryMib: request.memoryMib,
    configuredMemoryMib: request.configuredMemoryMib ?? request.memoryMib,
    automation: 'default',
    migrating: false,
  };
  const extended: ClusterSnapshot = {
    ...snapshot,
    vms: [...snapshot.vms.filter((v) => v.id !== vmId), newVm],
    rules: [...snapshot.rules, ...(request.rules ?? [])],
  };
  const hard = new PlanningState(extended, policy, { enforceSoftRules: false });
  const soft = new PlanningState(extended, policy, { enforceSoftRules: true });
  const v = hard.vmIndexById.get(vmId)!;
  const ranked: PlacementOption[] = [];
  const excluded: PlacementExclusion[] = [];
  for (let h = 0; h < hard.hostCount; h++) {
    const host = hard.hosts[h];
    if (!hard.connected[h]) {
      excluded.push({ hostId: host.id, hostName: host.name, reason: 'not-connected', explanation: `${host.name} is ${host.state}` });
      continue;
    }
    const move = { vms: [v], from: -1, to: h, purpose: 'placement' as const };
    const refusal = checkMove(move, hard);
    if (refusal) {
      excluded.push({ hostId: host.id, hostName: host.name, reason: refusal.code, explanation: refusal.explanation });
      continue;
    }
    const option: PlacementOption = {
      hostId: host.id,
      hostName: host.name,
      imbalanceAfter: hard.imbalanceAfter(hard.vmCpu[v], hard.vmMem[v], -1, h),
      cpuAfter: (hard.loadCpu[h] + hard.vmCpu[v]) / hard.capCpu[h],
      memoryAfter: (hard.loadMem[h] + hard.vmMem[v]) / hard.capMem[h],
    };
    const softRefusal = checkMove(move, soft);
    if (softRefusal) option.softRuleViolation = softRefusal.explanation;
    ranked.push(option);
  }
  ranked.sort(
    (a, b) =>
      Number(a.softRuleViolation !== undefined) - Number(b.softRuleViolation !== undefined) ||
      a.imbalanceAfter - b.imbalanceAfter ||
      compareIds(a.hostId, b.hostId),
  );
  return { vmId, imbalanceBefore: hard.imbalance(), ranked, excluded };
}
