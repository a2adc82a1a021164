import { MigrationView } from './dto/migration.dto';
import { LiveMigrationEntity } from './live-migration.entity';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toMigrationView(m: LiveMigrationEntity): MigrationView {
  return {
    id: m.id,
    clusterId: m.clusterId,
    vmId: m.vmId,
    sourceHostId: m.sourceHostId,
    targetHostId: m.targetHostId,
    state: m.state,
    trigger: m.trigger,
    reason: m.reason,
    priority: m.priority,
    recommendationId: m.recommendationId,
    memoryMib: m.memoryMib,
    driver: m.driver,
    attempts: m.attempts,
    maxAttempts: m.maxAttempts,
    progress: {
      percent: m.progressPercent,
      round: m.precopyRound,
      copiedMib: m.copiedMib,
      remainingMib: m.remainingMib,
      etaSeconds: m.etaSeconds,
    },
    downtimeMs: m.downtimeMs,
    durationSeconds: m.durationSeconds,
    error: m.error,
    cancelRequested: m.cancelRequestedAt !== null,
    createdAt: iso(m.createdAt) as string,
    updatedAt: iso(m.updatedAt) as string,
    startedAt: iso(m.startedAt),
    finishedAt: iso(m.finishedAt),
    nextAttemptAt: iso(m.nextAttemptAt),
    version: m.version,
  };
}
