import { IsInt, IsNumber, Max, Min } from 'class-validator';
import { ParseInt, ParseNumber } from '../config/transforms';

/** Sample ingestion, retention and demand estimation. */
export class SamplesSettings {
  /**
   * Raw utilization samples are kept this long, then rolled up into 5-minute averages: 3 hours, the
   * default swing window (a VM's swing is measured over raw samples).
   */
  @ParseInt()
  @IsInt()
  @Min(300)
  @Max(30 * 86400)
  SAMPLE_RAW_RETENTION_SECONDS = 10_800;

  /** 5-minute roll-ups are kept this long. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(3650)
  SAMPLE_ROLLUP_RETENTION_DAYS = 7;

  /** Samples stamped further than this in the future are refused (clocks drift; the future does not report). */
  @ParseInt()
  @IsInt()
  @Min(0)
  @Max(86400)
  SAMPLE_MAX_CLOCK_SKEW_SECONDS = 300;

  /** How often the background roll-up and pruning runs. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(86400)
  SAMPLE_RETENTION_INTERVAL_SECONDS = 60;

  /** Share of memory consumed but not active that counts as demand (DRS's idle tax). */
  @ParseNumber()
  @IsNumber()
  @Min(0)
  @Max(1)
  MEMORY_IDLE_TAX = 0.25;

  /** EWMA smoothing factor for the `ewma` demand statistic: weight of the newest sample. */
  @ParseNumber()
  @IsNumber()
  @Min(0.01)
  @Max(1)
  DEMAND_EWMA_ALPHA = 0.3;
}
