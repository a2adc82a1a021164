import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClusterSnapshot, Plan, PlannerPolicy } from './model';
import { planMoves } from './planner';

interface Pending {
  snapshot: ClusterSnapshot;
  policy: PlannerPolicy;
  resolve: (plan: Plan) => void;
  reject: (error: Error) => void;
}

type Reply = { id: number; plan: Plan; error?: undefined } | { id: number; error: { name: string; message: string; stack?: string } };

/** The worker's entry, compiled (dist/) or as TypeScript (ts-node, jest), which the worker then compiles itself. */
function workerSource(): { file: string; eval: boolean } {
  const file = join(__dirname, `plan-worker${extname(__filename)}`);
  if (extname(file) !== '.ts') return { file, eval: false };
  const bootstrap = `if (!require.extensions['.ts']) require('ts-node').register({ transpileOnly: true });\nrequire(${JSON.stringify(file)});`;
  return { file: bootstrap, eval: true };
}

/**
 * Runs the planner in a worker thread, so that planning a large cluster (tens to hundreds of ms of
 * CPU) never stalls the event loop that answers every other request. Plans queue in one worker, in
 * order; the result is the one planMoves gives in-thread (the same code on a structured clone of the
 * same input). Should the worker not start or die, plans run in-thread instead.
 */
@Injectable()
export class PlanRunner implements OnApplicationShutdown {
  private readonly logger = new Logger('PlanRunner');
  private worker: Worker | undefined;
  private online = false;
  /** The worker failed before it ever answered: plan in-thread from now on. */
  private unavailable = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;

  plan(snapshot: ClusterSnapshot, policy: PlannerPolicy): Promise<Plan> {
    const worker = this.ensureWorker();
    if (!worker) return Promise.resolve().then(() => planMoves(snapshot, policy));
    return new Promise<Plan>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { snapshot, policy, resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, snapshot, policy });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    // Whatever was still queued is planned here rather than dropped.
    this.fallBack();
    await worker?.terminate();
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    if (this.unavailable || this.stopped) return undefined;
    const source = workerSource();
    let worker: Worker;
    try {
      worker = new Worker(source.file, { eval: source.eval });
    } catch (err) {
      this.logger.warn({ err }, 'the planner worker could not start: planning in-thread');
      this.unavailable = true;
      return undefined;
    }
    worker.unref();
    worker.on('message', (reply: Reply) => {
      this.online = true;
      const entry = this.pending.get(reply.id);
      if (!entry) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error) entry.reject(Object.assign(new Error(reply.error.message), reply.error));
      else entry.resolve(reply.plan);
    });
    const lost = (err?: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.online) this.unavailable = true;
      if (!this.stopped) this.logger.warn({ err }, this.unavailable ? 'the planner worker could not start: planning in-thread' : 'the planner worker stopped; starting another');
      this.fallBack();
    };
    worker.on('error', lost);
    worker.on('exit', () => lost());
    this.worker = worker;
    return worker;
  }

  /** Plans in-thread what the worker took but will not answer. */
  private fallBack(): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      try {
        entry.resolve(planMoves(entry.snapshot, entry.policy));
      } catch (err) {
        entry.reject(err as Error);
      }
    }
  }
}
