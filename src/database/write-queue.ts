/**
 * A promise-chain mutex. TypeORM's sqlite driver shares one connection, so two transactions in flight
 * at once fail ("cannot start a transaction within a transaction"): every write goes through here.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Runs `task` after every task queued before it has settled; its result or error is the caller's. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => this.waiting--,
      () => this.waiting--,
    );
    return result;
  }

  /** Tasks queued or running. */
  get depth(): number {
    return this.waiting;
  }
}
