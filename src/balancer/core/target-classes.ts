// Targets grouped by capacity, each group ordered by CPU and by memory utilization. Within a group,
// the part of a move's Δσ² that depends on the target is linear in the target's utilizations with
// non-negative weights (2/n · (w_cpu·x_cpu·u_cpu + w_mem·x_mem·u_mem)), so the best target is found
// by walking both orders at once and stopping as soon as the sum of the two current values (a lower
// bound for every target not seen yet) can no longer win: Fagin's threshold algorithm. Near balance
// this looks at a handful of targets instead of all of them.

export interface TargetClass {
  /** 1 / capacity of the group's hosts. */
  pc: number;
  pm: number;
  /** The group's targets by ascending CPU utilization, then host index. */
  byCpu: Int32Array;
  /** The group's targets by ascending memory utilization, then host index. */
  byMem: Int32Array;
}

export function targetClasses(
  targets: Int32Array,
  capCpu: Float64Array,
  capMem: Float64Array,
  uCpu: Float64Array,
  uMem: Float64Array,
): TargetClass[] {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < targets.length; i++) {
    const b = targets[i];
    const key = `${capCpu[b]}/${capMem[b]}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(b);
  }
  const out: TargetClass[] = [];
  for (const group of groups.values()) {
    const b0 = group[0];
    out.push({
      pc: 1 / capCpu[b0],
      pm: 1 / capMem[b0],
      byCpu: Int32Array.from(group).sort((a, b) => uCpu[a] - uCpu[b] || a - b),
      byMem: Int32Array.from(group).sort((a, b) => uMem[a] - uMem[b] || a - b),
    });
  }
  return out;
}
