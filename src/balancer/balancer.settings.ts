import { IsInt, IsNumber, Max, Min } from 'class-validator';
import { ParseInt, ParseNumber } from '../config/transforms';

/** The planner queue (issue 13, item 7): what-ifs wait in a bounded queue behind evacuations and passes. */
export class BalancerSettings {
  /** Seconds a what-if plan (POST /clusters/{id}/plan, a maintenance status) may take; over it, it is stopped and answered 503. */
  @ParseNumber()
  @IsNumber()
  @Min(0.001)
  @Max(3600)
  PLAN_WHATIF_TIMEOUT_SECONDS = 5;

  /** Seconds a pass's or an evacuation's plan may take before it is stopped and the pass fails. */
  @ParseNumber()
  @IsNumber()
  @Min(0.001)
  @Max(86_400)
  PLAN_PASS_TIMEOUT_SECONDS = 120;

  /** What-if plans and placements that may wait for the planner; more are answered 503 with Retry-After. */
  @ParseInt()
  @IsInt()
  @Min(0)
  @Max(10_000)
  PLAN_WHATIF_QUEUE_MAX = 32;
}
