// @ts-check
// The page's state: the cluster shown, the refresh loop's bookkeeping, and the names learnt of hosts and VMs.

/** @type {{ clusterId: string | null, clusters: { id: string, name: string }[], generation: number, timer: number | undefined,
 *   abort: AbortController | null, vmNames: Map<string, string>, hostNames: Map<string, string>, cycles: number, inFlight: number,
 *   waitingForToken: boolean }} */
export const state = {
  clusterId: null,
  clusters: [],
  generation: 0,
  timer: undefined,
  abort: null,
  vmNames: new Map(),
  hostNames: new Map(),
  cycles: 0,
  inFlight: 0,
  waitingForToken: false,
};

export const hostName = (/** @type {string} */ id) => state.hostNames.get(id) ?? id.slice(0, 8);
export const vmName = (/** @type {string} */ id) => state.vmNames.get(id) ?? id.slice(0, 8);
