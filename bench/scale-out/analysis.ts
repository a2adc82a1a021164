// The scale-out benchmark's figures from the passes table.
import { median, percentile } from '../lib/stats';
import type { PassRow } from './replicas';

/** One table row: count, median, p95, max. */
export function spread(figure: string, values: number[]): Record<string, string | number> {
  if (values.length === 0) return { figure, n: 0, median: '-', p95: '-', max: '-' };
  return { figure, n: values.length, median: median(values), p95: percentile(values, 95), max: Math.max(...values) };
}

/**
 * Interval passes: latency (finishedAt - startedAt of those that finished), lag behind schedule (startedAt of pass k+1
 * minus startedAt of pass k + the interval, per cluster), and passes run twice (two of a cluster less than an interval apart).
 */
export function intervalPasses(all: PassRow[], intervalMs: number) {
  const byCluster = new Map<string, PassRow[]>();
  for (const p of all) if (p.trigger === 'interval') byCluster.set(p.clusterId, [...(byCluster.get(p.clusterId) ?? []), p]);
  const latencies: number[] = [];
  const lags: number[] = [];
  let twice = 0;
  let clustersWithTwo = 0;
  const twiceExamples: string[] = [];
  for (const [clusterId, list] of byCluster) {
    list.sort((a, b) => a.startedAt - b.startedAt);
    if (list.length >= 2) clustersWithTwo++;
    for (const p of list) if (p.status === 'completed' && p.finishedAt !== null) latencies.push(p.finishedAt - p.startedAt);
    for (let k = 1; k < list.length; k++) {
      const gap = list[k].startedAt - list[k - 1].startedAt;
      lags.push(gap - intervalMs);
      if (gap < intervalMs) {
        twice++;
        if (twiceExamples.length < 5) twiceExamples.push(`${clusterId}: ${list[k - 1].status} then ${list[k].status}, ${gap} ms apart`);
      }
    }
  }
  if (twiceExamples.length) console.log(`passes run twice, e.g.: ${twiceExamples.join('; ')}`);
  return { latencies, lags, twice, clustersWithTwo };
}

/**
 * The taken-over clusters: each one's first pass started after the kill, against when it was due (the last pass
 * before the kill + the interval, or the takeover if that was later). `missing`: due before `horizon` but none.
 */
export function failoverPasses(
  all: PassRow[],
  clusters: Set<string>,
  killedAt: number,
  takenOverAt: number,
  intervalMs: number,
  horizon: number,
) {
  const lags: number[] = [];
  let missing = 0;
  let notDue = 0;
  for (const id of clusters) {
    const list = all.filter((p) => p.clusterId === id && p.trigger === 'interval').sort((a, b) => a.startedAt - b.startedAt);
    const last = [...list].reverse().find((p) => p.startedAt <= killedAt);
    const next = list.find((p) => p.startedAt > killedAt);
    const due = Math.max(
      last ? last.startedAt + intervalMs : takenOverAt + intervalMs,
      Number.isFinite(takenOverAt) ? takenOverAt : killedAt,
    );
    if (next) lags.push(next.startedAt - due);
    else if (due < horizon) missing++;
    else notDue++;
  }
  return { lags, missing, notDue };
}

/**
 * Each cluster's first interval pass against its creation + the interval (the scheduler counts from when it first saw
 * the cluster, about its creation): the lag of first passes. `none`: clusters with no interval pass though due before `horizon`.
 */
export function firstPasses(all: PassRow[], createdAt: Map<string, number>, intervalMs: number, horizon: number) {
  const first = new Map<string, PassRow>();
  for (const p of all) {
    if (p.trigger !== 'interval') continue;
    const seen = first.get(p.clusterId);
    if (!seen || p.startedAt < seen.startedAt) first.set(p.clusterId, p);
  }
  const lags: number[] = [];
  /** The same, to the end of the pass (its recommendations recorded, its moves queued). */
  const endLags: number[] = [];
  let none = 0;
  for (const [id, created] of createdAt) {
    const pass = first.get(id);
    if (pass !== undefined) {
      lags.push(pass.startedAt - (created + intervalMs));
      if (pass.finishedAt !== null) endLags.push(pass.finishedAt - (created + intervalMs));
    } else if (created + intervalMs < horizon) none++;
  }
  return { lags, endLags, none };
}
