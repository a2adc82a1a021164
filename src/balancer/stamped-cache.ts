/**
 * Values computed from the database, each kept with the change stamp it was computed under (see
 * Database.changeStamp) and reused while the stamp is the same and it is younger than `maxAgeMs`.
 * What is kept is the promise, so requests that come while a value is being computed wait for that
 * computation instead of starting their own. A failed computation is not kept.
 */
export class StampedCache<V> {
  private readonly entries = new Map<string, { stamp: string; at: number; value: Promise<V> }>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
  ) {}

  get(key: string, stamp: string, now: number, compute: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp && now >= hit.at && now - hit.at < this.maxAgeMs) return hit.value;
    const entry = { stamp, at: now, value: compute() };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }
}
