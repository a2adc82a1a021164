import { jsonOf, type JsonSql } from '../common/json-page';
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

/** The same view, built by SQLite for list pages (see jsonPage). */
export const MIGRATION_ITEM = jsonOf.object({
  id: jsonOf.column('id'),
  clusterId: jsonOf.column('clusterId'),
  vmId: jsonOf.column('vmId'),
  sourceHostId: jsonOf.column('sourceHostId'),
  targetHostId: jsonOf.column('targetHostId'),
  state: jsonOf.column('state'),
  trigger: jsonOf.column('trigger'),
  reason: jsonOf.column('reason'),
  priority: jsonOf.column('priority'),
  recommendationId: jsonOf.column('recommendationId'),
  memoryMib: jsonOf.column('memoryMib'),
  driver: jsonOf.column('driver'),
  attempts: jsonOf.column('attempts'),
  maxAttempts: jsonOf.column('maxAttempts'),
  progress: jsonOf.object({
    percent: jsonOf.real('progressPercent'),
    round: jsonOf.column('precopyRound'),
    copiedMib: jsonOf.real('copiedMib'),
    remainingMib: jsonOf.real('remainingMib'),
    etaSeconds: jsonOf.real('etaSeconds'),
  } satisfies Record<keyof MigrationView['progress'], JsonSql>),
  downtimeMs: jsonOf.real('downtimeMs'),
  durationSeconds: jsonOf.real('durationSeconds'),
  error: jsonOf.column('error'),
  cancelRequested: jsonOf.isSet('cancelRequestedAt'),
  createdAt: jsonOf.epochMs('createdAt'),
  updatedAt: jsonOf.epochMs('updatedAt'),
  startedAt: jsonOf.epochMs('startedAt'),
  finishedAt: jsonOf.epochMs('finishedAt'),
  nextAttemptAt: jsonOf.epochMs('nextAttemptAt'),
  version: jsonOf.column('version'),
} satisfies Record<keyof MigrationView, JsonSql>);
