import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { Clock } from '../common/clock';
import { Database } from '../database/database.service';
import { SamplesSettings } from './samples.settings';

export const ROLLUP_BUCKET_MS = 300_000;
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
    this.scheduler.addInterval(JOB, setInterval(() => void this.runOnce().catch((err) => this.logger.error({ err }, 'retention failed')), every));
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

    const clusters: { clusterId: string }[] = await this.db.reader.query(
      'SELECT DISTINCT clusterId FROM samples WHERE timestamp < ?',
      [rawCutoff],
    );
    for (const { clusterId } of clusters) {
      for (;;) {
        const [{ oldest }] = await this.db.reader.query('SELECT MIN(timestamp) AS oldest FROM samples WHERE clusterId = ?', [clusterId]);
        if (oldest === null || oldest >= rawCutoff) break;
        const sliceEnd = Math.min(rawCutoff, floorToBucket(oldest) + SLICE_MS);
        rolled += await this.db.transaction(async (m) => {
          await m.query(
            `INSERT INTO sample_rollups (subjectId, timestamp, subjectKind, clusterId, cpuMhz, memoryActiveMib, memoryConsumedMib, memoryDirtyMibPerSecond, sampleCount)
             SELECT subjectId, (timestamp / ${ROLLUP_BUCKET_MS}) * ${ROLLUP_BUCKET_MS}, subjectKind, clusterId,
                    AVG(cpuMhz), AVG(memoryActiveMib), AVG(memoryConsumedMib), AVG(memoryDirtyMibPerSecond), COUNT(*)
               FROM samples WHERE clusterId = ? AND timestamp < ?
              GROUP BY subjectId, 2
             ON CONFLICT (subjectId, timestamp) DO UPDATE SET
               cpuMhz = (cpuMhz * sampleCount + excluded.cpuMhz * excluded.sampleCount) / (sampleCount + excluded.sampleCount),
               memoryActiveMib = (memoryActiveMib * sampleCount + excluded.memoryActiveMib * excluded.sampleCount) / (sampleCount + excluded.sampleCount),
               memoryConsumedMib = (memoryConsumedMib * sampleCount + excluded.memoryConsumedMib * excluded.sampleCount) / (sampleCount + excluded.sampleCount),
               memoryDirtyMibPerSecond = COALESCE((memoryDirtyMibPerSecond * sampleCount + excluded.memoryDirtyMibPerSecond * excluded.sampleCount) / (sampleCount + excluded.sampleCount), memoryDirtyMibPerSecond, excluded.memoryDirtyMibPerSecond),
               sampleCount = sampleCount + excluded.sampleCount`,
            [clusterId, sliceEnd],
          );
          const [{ n }] = await m.query('SELECT changes() AS n');
          await m.query('DELETE FROM samples WHERE clusterId = ? AND timestamp < ?', [clusterId, sliceEnd]);
          return n as number;
        });
        await yieldToOthers();
      }
    }

    for (;;) {
      const [{ oldest }] = await this.db.reader.query('SELECT MIN(timestamp) AS oldest FROM sample_rollups');
      if (oldest === null || oldest >= rollupCutoff) break;
      const sliceEnd = Math.min(rollupCutoff, oldest + 12 * SLICE_MS);
      pruned += await this.db.transaction(async (m) => {
        await m.query('DELETE FROM sample_rollups WHERE timestamp < ?', [sliceEnd]);
        const [{ n }] = await m.query('SELECT changes() AS n');
        return n as number;
      });
      await yieldToOthers();
    }
    if (rolled > 0 || pruned > 0) this.logger.log({ rolledUpBuckets: rolled, prunedRollups: pruned }, 'samples rolled up and pruned');
  }
}
