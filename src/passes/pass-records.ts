// What a pass writes besides its planning: the record of a pass that planned nothing (skipped), and the
// events of a pass that planned.
import { EntityManager } from 'typeorm';
import type { Plan } from '../balancer/core';
import { Actor } from '../events/actor';
import { EventsService, NewEvent } from '../events/events.service';
import { PassEntity, PassTrigger } from './pass.entity';

export interface SkippedPass {
  /** The record of a pass another replica was asked for, when it is that one. */
  id?: string;
  clusterId: string;
  trigger: PassTrigger;
  startedAt: number;
  finishedAt: number;
  notes: string;
  actor: Actor | null;
}

/** Records a pass that planned nothing, and its `pass.skipped` event, in the caller's transaction. */
export async function recordSkipped(m: EntityManager, events: EventsService, skipped: SkippedPass): Promise<PassEntity> {
  const { id, clusterId, trigger, startedAt, finishedAt, notes, actor } = skipped;
  const pass = await m.save(
    m.create(PassEntity, {
      ...(id !== undefined ? { id } : {}),
      clusterId,
      trigger,
      status: 'skipped',
      startedAt,
      finishedAt,
      imbalanceBefore: null,
      imbalanceAfter: null,
      target: null,
      movesRecommended: 0,
      skipped: [],
      notes,
    }),
  );
  await events.recordIn(m, {
    clusterId,
    subjectType: 'pass',
    subjectId: pass.id,
    type: 'pass.skipped',
    message: `Pass (${trigger}) ${notes}`,
    actor,
  });
  return pass;
}

/** The events of a pass that planned: what it saw and predicts, and one per recommended move. */
export function passEvents(clusterId: string, pass: PassEntity, plan: Plan, trigger: PassTrigger): NewEvent[] {
  const fmt = (x: number) => x.toFixed(4);
  const { imbalance, target, samplingNoise, balanced, balancedWithinNoise } = plan.before;
  const state = balanced
    ? balancedWithinNoise
      ? ` (balanced: sampling noise of the demand estimates accounts for ${fmt(samplingNoise)})`
      : ' (balanced)'
    : '';
  return [
    {
      clusterId,
      subjectType: 'pass',
      subjectId: pass.id,
      type: 'pass.started',
      message: `Pass (${trigger}): imbalance ${fmt(imbalance)} against target ${fmt(target)}${state}; ${plan.moves.length} move(s) would bring it to ${fmt(plan.after.imbalance)}`,
      data: { imbalance, target, samplingNoise, balanced, predicted: plan.after.imbalance },
    },
    ...plan.moves.map((move): NewEvent => ({
      clusterId,
      subjectType: 'vm',
      subjectId: move.vmId,
      type: 'recommendation.created',
      message: move.explanation,
      data: { passId: pass.id, fromHostId: move.fromHostId, toHostId: move.toHostId, priority: move.priority, reason: move.reason },
    })),
  ];
}
