// The planner in a worker thread (see PlanRunner): { ready: true } once loaded, then messages
// { id, snapshot, policy, searchShare } in, { id, plan } or { id, error } out. Only the pure planning code is
// loaded here: no Nest, no database.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ClusterSnapshot, engineWithSearchShare, PlannerPolicy, planWith } from './core';

// What-ifs plan at a lower CPU priority than the event loop and the pass thread. Only on Linux, where
// the nice value belongs to the thread: elsewhere it would lower the whole service.
const niceness = (workerData as { niceness?: number } | null)?.niceness ?? 0;
if (niceness > 0 && process.platform === 'linux') {
  try {
    setPriority(niceness);
  } catch {
    // Not permitted here: plan at the normal priority.
  }
}

parentPort?.on('message', (message: { id: number; snapshot: ClusterSnapshot; policy: PlannerPolicy; searchShare?: number }) => {
  try {
    const engine = engineWithSearchShare(message.searchShare ?? 1);
    parentPort!.postMessage({ id: message.id, plan: planWith(message.snapshot, message.policy, engine) });
  } catch (err) {
    const error =
      err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { name: 'Error', message: String(err) };
    parentPort!.postMessage({ id: message.id, error });
  }
});
// A plan's time budget starts when the worker can plan, not while it loads (seconds under ts-node).
parentPort?.postMessage({ ready: true });
