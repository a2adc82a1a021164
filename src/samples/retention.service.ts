import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { Clock } from '../common/clock';
import { Database } from '../database/database.service';
import {
  clustersWithSamplesBefore,
  DAY_MS,
  dropDayPartition,
  oldestRollup,
  oldestSample,
  pruneRollups,
  ROLLUP_BUCKET_MS,
  rollUpDay,
  rollUpSlice,
} from './samples.repository';
import { SamplePartitions } from './sample-partitions.service';
import { SamplesSettings } from './samples.settings';

export { ROLLUP_BUCKET_MS } from './samples.repository';
/** Raw samples rolled up per transaction: short transactions keep ingestion flowing meanwhile. */
const SLICE_MS = 6 * ROLLUP_BUCKET_MS;
const JOB = 'sample-retention';

const floorToBucket = (ms: number) => Math.floor(ms / ROLLUP_BUCKET_MS) * ROLLUP_BUCKET_MS;

/**
 * Keeps the samples tables bounded: raw samples older than the raw retention become 5-minute
 * averages (merged with any already there), and roll-ups older than their retention are deleted.
 * Work is cut into short transactions so that ingestion is never held up for long. On PostgreSQL,
 * where both tables are partitioned by day, a day wholly past a retention goes at once: its raw
 * samples are rolled up in one statement and its partition dropped; roll-up partitions are dropped.
 * Only the day at each cutoff is rolled up or pruned row by row.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: SamplesSettings,
    private readonly scheduler: SchedulerRegistry,
    private readonly partitions: SamplePartitions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // PostgreSQL: the partitions of the days around now, before the first batch comes in.
    await this.partitions
      .ensureAhead(this.clock.now(), this.rawCutoff(this.clock.now()))
      .catch((err: unknown) => this.logger.error({ err }, 'sample partitions could not be created'));
    const every = this.settings.SAMPLE_RETENTION_INTERVAL_SECONDS * 1000;
    this.scheduler.addInterval(
      JOB,
      setInterval(() => void this.runOnce().catch((err: unknown) => this.logger.error({ err }, 'retention failed')), every),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', JOB)) this.scheduler.deleteInterval(JOB);
    await this.running;
  }

  /** One round of roll-up and pruning; concurrent calls share the round in progress. */
  runOnce(): Promise<void> {
    this.running ??= this.roll().finally(() => (this.running = undefined));
    return this.running;
  }

  private rawCutoff(now: number): number {
    return floorToBucket(now - this.settings.SAMPLE_RAW_RETENTION_SECONDS * 1000);
  }

  private async roll(): Promise<void> {
    const now = this.clock.now();
    const rawCutoff = this.rawCutoff(now);
    const rollupCutoff = now - this.settings.SAMPLE_ROLLUP_RETENTION_DAYS * 86_400_000;
    let rolled = 0;
    let pruned = 0;
    let droppedDays = 0;
    await this.partitions.ensureAhead(now, rawCutoff);

    if (this.partitions.enabled) {
      // Whole days of raw samples past the cutoff: one roll-up statement and a dropped partition each.
      for (const day of await this.partitions.days('samples')) {
        if (day + DAY_MS > rawCutoff) continue;
        await this.partitions.ensure('sample_rollups', [day]);
        rolled += await this.db.transaction((m) => rollUpDay(m, day));
        this.partitions.forget('samples', [day]);
        droppedDays++;
        await yieldToOthers();
      }
      // The roll-ups of the day at the cutoff, rolled up slice by slice below.
      await this.partitions.ensure(
        'sample_rollups',
        (await this.partitions.days('samples')).filter((day) => day < rawCutoff),
      );
    }

    for (const clusterId of await clustersWithSamplesBefore(this.db.reader, rawCutoff)) {
      for (;;) {
        const oldest = await oldestSample(this.db.reader, clusterId);
        if (oldest === null || oldest >= rawCutoff) break;
        const sliceEnd = Math.min(rawCutoff, floorToBucket(oldest) + SLICE_MS);
        rolled += await this.db.transaction((m) => rollUpSlice(m, clusterId, sliceEnd));
        await yieldToOthers();
      }
    }

    // Roll-up partitions wholly past their retention: dropped.
    for (const day of await this.partitions.days('sample_rollups')) {
      if (day + DAY_MS > rollupCutoff) continue;
      await this.db.transaction((m) => dropDayPartition(m, 'sample_rollups', day));
      this.partitions.forget('sample_rollups', [day]);
      droppedDays++;
      await yieldToOthers();
    }

    for (;;) {
      const oldest = await oldestRollup(this.db.reader);
      if (oldest === null || oldest >= rollupCutoff) break;
      const sliceEnd = Math.min(rollupCutoff, oldest + 12 * SLICE_MS);
      pruned += await this.db.transaction((m) => pruneRollups(m, sliceEnd));
      await yieldToOthers();
    }
    if (rolled > 0 || pruned > 0 || droppedDays > 0)
      this.logger.log(
        { rolledUpBuckets: rolled, prunedRollups: pruned, droppedDayPartitions: droppedDays },
        'samples rolled up and pruned',
      );
  }
}
