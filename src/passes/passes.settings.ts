import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { ParseBoolean, ParseInt } from '../config/transforms';

/** The scheduler of balancing passes. */
export class PassesSettings {
  /** Run balancing passes on each cluster's interval (passes on demand and evacuations run regardless). */
  @ParseBoolean()
  @IsBoolean()
  SCHEDULER_ENABLED = true;

  /** How often the scheduler looks for passes that are due and hosts done entering maintenance. */
  @ParseInt()
  @IsInt()
  @Min(10)
  @Max(60_000)
  SCHEDULER_TICK_MS = 1000;
}
