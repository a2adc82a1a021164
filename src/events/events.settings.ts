import { IsInt, Max, Min } from 'class-validator';
import { ParseInt } from '../config/transforms';

/** The audit trail. */
export class EventsSettings {
  /** Events (the audit trail) older than this are deleted. */
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(3650)
  EVENT_RETENTION_DAYS = 30;
}
