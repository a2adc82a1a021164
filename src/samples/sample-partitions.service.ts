import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.service';
import { createDayPartitions, DAY_MS, dayOf, PartitionedTable, partitionDays, partitionedByDay } from './samples.repository';

/**
 * PostgreSQL's day partitions of `samples` and `sample_rollups`, with the days known to exist kept in
 * memory: a batch whose days all have a partition costs no extra round trip. Partitions are created
 * outside any write transaction, each statement committing on its own. On SQLite there are none and
 * every method returns at once.
 */
@Injectable()
export class SamplePartitions {
  private readonly known = new Map<PartitionedTable, Set<number>>();

  constructor(private readonly db: Database) {}

  get enabled(): boolean {
    return partitionedByDay(this.db.reader);
  }

  private async knownDays(table: PartitionedTable): Promise<Set<number>> {
    let days = this.known.get(table);
    if (!days) {
      days = new Set(await partitionDays(this.db.reader, table));
      this.known.set(table, days);
    }
    return days;
  }

  /** Makes sure the table has a partition for the day of each of `times`. */
  async ensure(table: PartitionedTable, times: Iterable<number>): Promise<void> {
    if (!this.enabled) return;
    const known = await this.knownDays(table);
    const missing = [...new Set([...times].map(dayOf))].filter((day) => !known.has(day));
    if (missing.length === 0) return;
    await createDayPartitions(this.db.reader, table, missing);
    for (const day of missing) known.add(day);
  }

  /**
   * Partitions for yesterday, today and the next two days, in both tables; but not yesterday's raw
   * samples once it is wholly before `rawCutoff` (the retention would drop it again at once).
   */
  async ensureAhead(now: number, rawCutoff: number): Promise<void> {
    const days = [-1, 0, 1, 2].map((i) => dayOf(now) + i * DAY_MS);
    await this.ensure(
      'samples',
      days.filter((day) => day + DAY_MS > rawCutoff),
    );
    await this.ensure('sample_rollups', days);
  }

  /** The days the table has a partition for, as the database says now, oldest first. */
  async days(table: PartitionedTable): Promise<number[]> {
    if (!this.enabled) return [];
    const days = await partitionDays(this.db.reader, table);
    this.known.set(table, new Set(days));
    return days;
  }

  /** After a partition is dropped, or found missing. */
  forget(table: PartitionedTable, days: Iterable<number>): void {
    const known = this.known.get(table);
    for (const day of days) known?.delete(dayOf(day));
  }
}
