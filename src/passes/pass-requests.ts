// Passes on a shared database (several replicas): a pass asked of a replica that does not own the cluster is
// written as `requested` and run by the owner, whose record the asking replica waits for; the passes a
// replica that stopped left `running` are marked interrupted by the one taking its clusters over.
import { setTimeout as delay } from 'node:timers/promises';
import { In } from 'typeorm';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { PassEntity, PassTrigger } from './pass.entity';

/** Writes the request; the owner's scheduler picks it up at its next tick. */
export function writeRequest(db: Database, clusterId: string, trigger: PassTrigger, now: number, actor: Actor | null): Promise<PassEntity> {
  return db.transaction(
    (m) =>
      m.save(
        m.create(PassEntity, {
          clusterId,
          trigger,
          status: 'requested',
          startedAt: now,
          finishedAt: null,
          imbalanceBefore: null,
          imbalanceAfter: null,
          target: null,
          movesRecommended: 0,
          skipped: [],
          notes: 'requested of a replica that does not own the cluster: its owner runs it',
          requestedBy: actor,
        }),
      ),
    { affects: [] },
  );
}

/** The pass's record once it is over (completed, skipped or failed). */
export async function awaitRequest(db: Database, id: string, waitMs: number): Promise<PassEntity> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    await delay(100);
    const pass = await db.reader.findOneBy(PassEntity, { id });
    if (pass && pass.status !== 'requested' && pass.status !== 'running') return pass;
    if (performance.now() >= deadline) {
      throw new DomainError(
        ErrorCode.Unavailable,
        `No replica owning the cluster ran the pass within ${waitMs / 1000} s (pass ${id}): it stays ${pass?.status ?? 'requested'} and runs once one does`,
      );
    }
  }
}

/** Passes asked of other replicas for the given clusters, oldest first, with who asked. */
export function pendingRequests(db: Database, clusterIds: string[]): Promise<PassEntity[]> {
  if (clusterIds.length === 0) return Promise.resolve([]);
  return db.reader.find(PassEntity, {
    where: { status: 'requested', clusterId: In(clusterIds) },
    select: { id: true, clusterId: true, trigger: true, requestedBy: true },
    order: { startedAt: 'ASC' },
  });
}

/** Marks the cluster's passes (every cluster's: null) left running as failed, saying why. */
export function interruptPasses(db: Database, clusterId: string | null, notes: string, now: number): Promise<unknown> {
  const where = clusterId === null ? { status: 'running' as const } : { status: 'running' as const, clusterId };
  return db.transaction((m) => m.update(PassEntity, where, { status: 'failed', finishedAt: now, notes }), { affects: [] });
}

/** When the cluster's last pass that ran started, if any. */
export async function lastPassStart(db: Database, clusterId: string): Promise<number | undefined> {
  const last = await db.reader.findOne(PassEntity, {
    where: { clusterId, status: In(['running', 'completed', 'failed', 'skipped']) },
    select: { startedAt: true },
    order: { startedAt: 'DESC' },
  });
  return last?.startedAt;
}
