// The planner in a worker thread (see PlanRunner): messages { id, snapshot, policy } in, { id, plan }
// or { id, error } out. Only the pure planning code is loaded here: no Nest, no database.
import { parentPort } from 'node:worker_threads';
import { ClusterSnapshot, PlannerPolicy } from './model';
import { planMoves } from './planner';

parentPort?.on('message', (message: { id: number; snapshot: ClusterSnapshot; policy: PlannerPolicy }) => {
  try {
    parentPort!.postMessage({ id: message.id, plan: planMoves(message.snapshot, message.policy) });
  } catch (err) {
    const error = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { name: 'Error', message: String(err) };
    parentPort!.postMessage({ id: message.id, error });
  }
});
