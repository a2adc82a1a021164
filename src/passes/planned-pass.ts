// A pass that plans: reads the cluster, plans (in the plan runner's threads), records the pass and its
// recommendations, applies those the automation level allows, and records the outcome. The scheduler
// (scheduler.service.ts) decides when, and holds the cluster's chain of passes while this runs.
import { Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { BalancerService } from '../balancer/balancer.service';
import { applyPlan, balanceReport, Plan } from '../balancer/core';
import { Clock } from '../common/clock';
import { findOr404 } from '../common/database-helpers';
import { DomainError } from '../common/domain-error';
import { isDatabaseUnavailable } from '../database/database-errors';
import { Database } from '../database/database.service';
import { Actor } from '../events/actor';
import { EventsService } from '../events/events.service';
import { MetricsRecorder } from '../observability/metrics-recorder';
import { PoliciesService } from '../policies/policies.service';
import { activeBlackout, ClusterPolicy } from '../policies/policy';
import { RecommendationsService } from '../recommendations/recommendations.service';
import { decide } from './automation';
import { DeferredWrites } from './deferred-writes';
import { passEvents } from './pass-records';
import { PassEntity, PassTrigger, SkippedMove } from './pass.entity';

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export interface PlannedPassDeps {
  db: Database;
  clock: Clock;
  balancer: BalancerService;
  policies: PoliciesService;
  events: EventsService;
  recommendations: RecommendationsService;
  metrics: MetricsRecorder;
  logger: Logger;
  /** Pass records written later, when the database could not take them. */
  deferred: DeferredWrites;
  /** Refuses a write acting on the cluster once another replica owns it. */
  fence: (m: EntityManager, clusterId: string) => Promise<void>;
}

export class PlannedPass {
  constructor(private readonly deps: PlannedPassDeps) {}

  async run(clusterId: string, trigger: PassTrigger, startedAt: number, actor: Actor | null, id: { id?: string }): Promise<PassEntity> {
    const policy = await this.deps.policies.resolve(clusterId);
    const blackout = activeBlackout(policy.blackoutWindows, startedAt, policy.timeZone);
    // An evacuation makes the mandatory moves only (as at threshold 1): it answers and starts at once
    // (balancing a 1,000-VM cluster on top took most of a second), and the next pass balances. Its
    // record measures the cluster against the cluster's own threshold, as every pass does. The cluster
    // (and which of its VMs are in cooldown) is read when the plan's turn comes in the planner queue.
    const evacuation = trigger === 'maintenance';
    const { snapshot, plan: planned } = await this.deps.balancer.planInTurn(
      async () => this.deps.balancer.snapshot(clusterId, policy, await this.cooldownVmIds(clusterId, policy, startedAt)),
      evacuation ? { ...policy, migrationThreshold: 1 } : policy,
      { priority: evacuation ? 'evacuation' : 'pass' },
    );
    const plan: Plan = evacuation
      ? { ...planned, before: balanceReport(snapshot, policy), after: balanceReport(applyPlan(snapshot, planned), policy) }
      : planned;
    const automation = new Map(snapshot.vms.map((v) => [v.id, v.automation]));

    const decisions = plan.moves.map((move) => ({
      move,
      decision: decide(move, automation.get(move.vmId) ?? 'default', policy, blackout !== undefined),
    }));
    const notes = [
      blackout
        ? `blackout window ${blackout.days.join(',')} ${blackout.start}–${blackout.end} (${policy.timeZone}): balancing held back`
        : '',
      policy.dryRun ? 'dry run' : '',
      evacuation ? 'evacuation: mandatory moves only, the next pass balances' : '',
      !evacuation && plan.before.balanced && plan.moves.length === 0 ? 'balanced: nothing to do' : '',
      plan.softRulesRelaxed?.length ? `soft rules relaxed: ${plan.softRulesRelaxed.join(', ')}` : '',
      plan.searchCut
        ? `planned with ${Math.round(plan.searchCut.share * 100)}% of the search (${plan.searchCut.waiting} plan(s) waiting behind it)`
        : '',
    ].filter(Boolean);

    const { pass, recs } = await this.deps.db.transaction(
      async (m) => {
        await this.deps.fence(m, clusterId);
        const pass = await m.save(
          m.create(PassEntity, {
            ...id,
            clusterId,
            trigger,
            status: 'running',
            startedAt,
            finishedAt: null,
            imbalanceBefore: finite(plan.before.imbalance),
            imbalanceAfter: finite(plan.after.imbalance),
            // No connected host: no target to measure against.
            target: finite(plan.before.target),
            movesRecommended: plan.moves.length,
            skipped: [],
            notes: notes.join('; '),
          }),
        );
        const recs = await this.deps.recommendations.recordForPass(m, clusterId, pass.id, plan.moves, startedAt);
        await this.deps.events.recordIn(
          m,
          passEvents(clusterId, pass, plan, trigger).map((e) => ({ ...e, actor })),
        );
        return { pass, recs };
      },
      { affects: [] },
    ); // recommendations, the pass and its events: no input of any cluster's balance

    const skipped: SkippedMove[] = [];
    let applied = 0;
    for (const [i, { move, decision }] of decisions.entries()) {
      if (!decision.apply) {
        skipped.push({ vmId: move.vmId, vmName: move.vmName, reason: decision.why });
        continue;
      }
      try {
        await this.deps.recommendations.apply(recs[i].id, { recheck: false, actor });
        applied++;
      } catch (err) {
        skipped.push({
          vmId: move.vmId,
          vmName: move.vmName,
          reason: err instanceof DomainError ? err.message : 'the migration could not be queued',
        });
        if (!(err instanceof DomainError)) this.deps.logger.error({ err, clusterId, passId: pass.id }, 'applying a recommendation failed');
      }
    }
    // Members of an affinity group are applied together by their first member.
    applied = await this.deps.recommendations.countApplied(pass.id);

    const finishedAt = this.deps.clock.now();
    const finish = async (m: EntityManager) => {
      await this.deps.fence(m, clusterId);
      await m.update(
        PassEntity,
        { id: pass.id },
        { status: 'completed', finishedAt, movesApplied: applied, movesSkipped: skipped.length, skipped },
      );
      await this.deps.events.recordIn(m, {
        clusterId,
        subjectType: 'pass',
        subjectId: pass.id,
        type: 'pass.completed',
        message: `Pass (${trigger}) done in ${finishedAt - startedAt} ms: ${plan.moves.length} move(s) recommended, ${applied} applied, ${skipped.length} waiting${notes.length ? ` (${notes.join('; ')})` : ''}`,
        data: { applied, skipped: skipped.length },
        actor,
      });
    };
    try {
      await this.deps.db.transaction(finish, { affects: [] });
    } catch (err) {
      // The moves are made; only their record waits for the database.
      if (!isDatabaseUnavailable(err)) throw err;
      this.deps.deferred.push(clusterId, finish);
    }
    this.deps.metrics.passCompleted(clusterId, trigger, finishedAt - startedAt);
    return findOr404(this.deps.db.reader, PassEntity, pass.id, 'Pass');
  }

  /** VMs moved by the balancer within the policy's cooldown are left alone for balancing. */
  private async cooldownVmIds(clusterId: string, policy: ClusterPolicy, now: number): Promise<Set<string>> {
    if (policy.cooldownSeconds <= 0) return new Set();
    return this.deps.recommendations.appliedSince(clusterId, now - policy.cooldownSeconds * 1000);
  }
}
