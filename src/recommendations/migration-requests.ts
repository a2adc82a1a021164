// How recommendations reach the migration engine, the scheduler's moves included (bound in RecommendationsModule).
import type { Actor } from '../events/actor';

export interface MoveRequest {
  vmId: string;
  targetHostId: string;
  trigger: 'recommendation' | 'evacuation';
  priority: number;
  reason: string;
  recommendationId: string;
  /** Who asked for it through the API (an operator's apply, a pass they started); none for scheduled passes. */
  actor?: Actor | null;
}

export abstract class MigrationRequests {
  /** Queues the move; resolves with the migration id, or rejects with a DomainError saying why not. */
  abstract request(move: MoveRequest): Promise<string>;
}
