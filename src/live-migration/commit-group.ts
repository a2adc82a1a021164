// Group commit: writes that arrive while a batch is being written go together into the next one,
// so a burst of migrations ending at once costs one transaction (one fsync), not one each.

export class CommitGroup<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  /**
   * `write` stores a batch in one transaction. When a batch fails, its items are retried one by one,
   * so that one bad item does not take the others down with it.
   */
  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch = 200,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    });
  }

  /** Resolves once everything added so far is written (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    // Let the callers of this tick join the first batch.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.write(batch.map((entry) => entry.item));
        for (const entry of batch) entry.resolve();
      } catch {
        for (const entry of batch) {
          await this.write([entry.item]).then(entry.resolve, entry.reject);
        }
      }
    }
  }
}
