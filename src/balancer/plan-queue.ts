// The planner's queues: jobs one at a time, best priority first, bounded, and dropped when nobody
// waits for them any more. No threads here; PlanRunner runs each job on a worker.
import { DomainError, ErrorCode } from '../common/domain-error';

/**
 * Who asked for a plan. Evacuations (a host entering maintenance) go first, then balancing passes
 * (scheduled, on demand, after a rule change); what-ifs (dry-run plans, placements and maintenance
 * status asked through the API) go last, in a bounded queue of their own.
 */
export type PlanPriority = 'evacuation' | 'pass' | 'what-if';

const RANK: Record<PlanPriority, number> = { evacuation: 0, pass: 1, 'what-if': 2 };

export const cancelled = () => new DomainError(ErrorCode.Unavailable, 'The client went away before its plan was made: it was dropped');

interface Job {
  rank: number;
  signal?: AbortSignal;
  start(): Promise<void>;
  drop(error: Error): void;
}

/**
 * Jobs one at a time, best rank first and in arrival order within a rank. At most `maxWaiting` wait
 * (the one running does not count); one more is refused with a 503 at once, before any of its work
 * is done. A waiting job whose signal aborts leaves the queue without ever running.
 */
export class PlanQueue {
  private readonly waiting: Job[] = [];
  private busy = false;

  constructor(
    private readonly maxWaiting = Infinity,
    private readonly busyMessage = (waiting: number) =>
      `The planner is busy: ${waiting} plans are already waiting; try again in a few seconds`,
    /** Before each job starts: undefined to go on at once, or a promise to wait for (jobs keep their place, and can be dropped, meanwhile). */
    private readonly turn: () => Promise<void> | undefined = () => undefined,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  submit<T>(priority: PlanPriority, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new DomainError(ErrorCode.Unavailable, this.busyMessage(this.waiting.length), [], { waiting: this.waiting.length }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(job);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        reject(cancelled());
      };
      const job: Job = {
        rank: RANK[priority],
        signal,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          return Promise.resolve().then(work).then(resolve, reject);
        },
        drop: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const at = this.waiting.findIndex((w) => w.rank > job.rank);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, job);
      void this.drain();
    });
  }

  /** Refuses every job still waiting. */
  clear(error: Error): void {
    for (const job of this.waiting.splice(0)) job.drop(error);
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.waiting.length > 0) {
        const wait = this.turn();
        if (wait) await wait;
        const job = this.waiting.shift();
        if (!job) break;
        if (job.signal?.aborted) job.drop(cancelled());
        else await job.start();
      }
    } finally {
      this.busy = false;
    }
  }
}
