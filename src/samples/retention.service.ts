import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { Clock } from '../common/clock';
import { Database } from '../database/database.service';
import { clustersWithSamplesBefore, oldestRollup, oldestSample, pruneRollups, ROLLUP_BUCKET_MS, rollUpSlice } from './samples.repository';
import { SamplesSettings } from './samples.settings';

export { ROLLUP_BUCKET_MS } from './samples.repository';
/** Raw samples rolled up per transaction: short transactions keep ingestion flowing meanwhile. */
const SLICE_MS = 6 * ROLLUP_BUCKET_MS;
const JOB = 'sample-retention';

const floorToBucket = (ms: number) => Math.floor(ms / ROLLUP_BUCKET_MS) * ROLLUP_BUCKET_MS;

/**
 * Keeps the samples tables bounded: raw samples older than the raw retention become 5-minute
 * averages (merged with any already there), and roll-ups older than their retention are deleted.
 * Work is cut into short transactions so that ingestion is never held up for long.
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
  ) {}

  onApplicationBootstrap(): void {
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

  private async roll(): Promise<void> {
    const now = this.clock.now();
    const rawCutoff = floorToBucket(now - this.settings.SAMPLE_RAW_RETENTION_SECONDS * 1000);
    const rollupCutoff = now - this.settings.SAMPLE_ROLLUP_RETENTION_DAYS * 86_400_000;
    let rolled = 0;
    let pruned = 0;

    for (const clusterId of await clustersWithSamplesBefore(this.db.reader, rawCutoff)) {
      for (;;) {
        const oldest = await oldestSample(this.db.reader, clusterId);
        if (oldest === null || oldest >= rawCutoff) break;
        const sliceEnd = Math.min(rawCutoff, floorToBucket(oldest) + SLICE_MS);
        rolled += await this.db.transaction((m) => rollUpSlice(m, clusterId, sliceEnd));
        await yieldToOthers();
      }
    }

    for (;;) {
      const oldest = await oldestRollup(this.db.reader);
      if (oldest === null || oldest >= rollupCutoff) break;
      const sliceEnd = Math.min(rollupCutoff, oldest + 12 * SLICE_MS);
      pruned += await this.db.transaction((m) => pruneRollups(m, sliceEnd));
      await yieldToOthers();
    }
    if (rolled > 0 || pruned > 0) this.logger.log({ rolledUpBuckets: rolled, prunedRollups: pruned }, 'samples rolled up and pruned');
  }
}
