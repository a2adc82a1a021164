// The scheduler's and recommendations' way into the migration engine (bound in SchedulerModule).
export interface MoveRequest {
  vmId: string;
  targetHostId: string;
  trigger: 'recommendation' | 'evacuation';
  priority: number;
  reason: string;
  recommendationId: string;
}

export abstract class MigrationRequests {
  /** Queues the move; resolves with the migration id, or rejects with a DomainError saying why not. */
  abstract request(move: MoveRequest): Promise<string>;
}
