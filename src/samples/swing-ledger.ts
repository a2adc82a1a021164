// Each VM's swing (the σ of its CPU samples over the swing window, 3 hours by default) without reading
// the whole swing window for every estimate. The window's complete 5-minute buckets are read once and
// kept as sums per VM (count, Σx, Σx²); an estimate reads only what the kept buckets do not hold: the
// head of the window (after its start, before the first kept bucket) and the tail (from the end of the
// kept buckets on, the samples still arriving). As the window slides, the buckets it has left are
// subtracted and the ones newly complete are read. σ² = Σx²/n − (Σx/n)², as sigmaOf has it.
//
// A bucket counts as complete one bucket after it ends (SWING_SETTLE_MS): samples reach the service some
// time after they are taken. One written into a kept bucket later still is missed until the buckets are
// read again: DemandService drops a cluster's ledger when its own ingestion writes such a sample, and
// reads every ledger afresh at least every SWING_REBUILD_MS (late samples another replica ingests).
import { sigmaOf } from './demand';

/** Width of a kept bucket: the roll-up bucket (ROLLUP_BUCKET_MS). */
export const SWING_BUCKET_MS = 300_000;
/** How long after its end a bucket is read and kept: until then it is read with the tail. */
export const SWING_SETTLE_MS = SWING_BUCKET_MS;
/** A ledger is read afresh when it is this old. */
export const SWING_REBUILD_MS = 30 * 60_000;

/** Count, sum and sum of squares of some CPU samples (MHz). */
export interface CpuSums {
  n: number;
  s1: number;
  s2: number;
}

export interface VmCpuSums extends CpuSums {
  subjectId: string;
}

export interface BucketCpuSums extends VmCpuSums {
  /** Start of the bucket (epoch ms, a multiple of SWING_BUCKET_MS). */
  bucket: number;
}

/** The kept buckets of a swing window, [from, to): where they start and end for a window at `now`. */
export function keptSpan(swingSince: number, now: number): { from: number; to: number } {
  // The window's start is exclusive: a sample stamped exactly then is not in it (nor in a kept bucket).
  const from = (Math.floor(swingSince / SWING_BUCKET_MS) + 1) * SWING_BUCKET_MS;
  const to = Math.floor((now - SWING_SETTLE_MS) / SWING_BUCKET_MS) * SWING_BUCKET_MS;
  return { from, to: Math.max(from, to) };
}

/** Sums of one VM, with its id as first seen: the buckets' rows refer to that one string. */
interface Entry extends CpuSums {
  id: string;
}

function add(into: Map<string, Entry>, id: string, sums: CpuSums, sign: 1 | -1): void {
  const entry = into.get(id);
  if (!entry) {
    if (sign > 0) into.set(id, { id, n: sums.n, s1: sums.s1, s2: sums.s2 });
    return;
  }
  entry.n += sign * sums.n;
  entry.s1 += sign * sums.s1;
  entry.s2 += sign * sums.s2;
  if (entry.n <= 0) into.delete(id);
}

/** The kept buckets of one cluster's swing window, [from, to), and their sums per VM. */
export class SwingLedger {
  /**
   * The sums of each kept bucket, by the bucket's start: one row per VM with samples in it, in typed
   * arrays, each id string kept once: 36 buckets of 40,000 VMs take about 24 MiB with the totals.
   */
  private readonly buckets = new Map<number, { ids: string[]; n: Int32Array; s1: Float64Array; s2: Float64Array }>();
  /** Per VM sums over every kept bucket. */
  private readonly total = new Map<string, Entry>();
  private fromMs: number;
  private toMs: number;
  /** Where the span will end once the read under way lands (`claim`). */
  private claimedMs: number;

  constructor(
    /** When the ledger was started (epoch ms): it is read afresh SWING_REBUILD_MS later. */
    readonly startedAt: number,
    from: number,
  ) {
    this.fromMs = from;
    this.toMs = from;
    this.claimedMs = from;
  }

  get from(): number {
    return this.fromMs;
  }

  get to(): number {
    return this.toMs;
  }

  /**
   * Where the kept buckets end, counting those being read: a sample written before that is one they may
   * miss (DemandService.samplesWritten).
   */
  get claimedTo(): number {
    return Math.max(this.claimedMs, this.toMs);
  }

  /** The buckets up to `to` are being read (before `extend` brings them). */
  claim(to: number): void {
    if (to > this.claimedMs) this.claimedMs = to;
  }

  /** Whether the ledger can serve a window whose kept span starts at `from`, at `now`. */
  servesAt(now: number, from: number): boolean {
    return now >= this.startedAt && now - this.startedAt < SWING_REBUILD_MS && from >= this.fromMs && now >= this.toMs;
  }

  /** Subtracts the buckets that start before `from`; the span then starts there. */
  dropBefore(from: number): void {
    if (from <= this.fromMs) return;
    for (const [start, b] of this.buckets) {
      if (start >= from) continue;
      for (let i = 0; i < b.ids.length; i++) add(this.total, b.ids[i], { n: b.n[i], s1: b.s1[i], s2: b.s2[i] }, -1);
      this.buckets.delete(start);
    }
    this.fromMs = from;
    if (this.toMs < from) this.toMs = from;
  }

  /** Keeps the buckets in [this.to, to) read from the samples (`rows`): the span then ends at `to`. */
  extend(rows: readonly BucketCpuSums[], to: number): void {
    const byBucket = new Map<number, BucketCpuSums[]>();
    for (const row of rows) {
      if (row.bucket < this.toMs || row.bucket >= to || this.buckets.has(row.bucket)) continue;
      let list = byBucket.get(row.bucket);
      if (!list) byBucket.set(row.bucket, (list = []));
      list.push(row);
      add(this.total, row.subjectId, row, 1);
    }
    for (const [start, list] of byBucket) {
      this.buckets.set(start, {
        ids: list.map((r) => this.total.get(r.subjectId)?.id ?? r.subjectId),
        n: Int32Array.from(list, (r) => r.n),
        s1: Float64Array.from(list, (r) => r.s1),
        s2: Float64Array.from(list, (r) => r.s2),
      });
    }
    if (to > this.toMs) this.toMs = to;
  }

  /** σ per VM (MHz) over the kept buckets and the samples outside them (`edges`, read now). */
  sigmas(edges: readonly VmCpuSums[]): Map<string, number> {
    const extra = new Map<string, Entry>();
    for (const e of edges) add(extra, e.subjectId, e, 1);
    const out = new Map<string, number>();
    const put = (id: string, n: number, s1: number, s2: number) => {
      if (n > 0) out.set(id, sigmaOf(s1 / n, s2 / n));
    };
    for (const [id, s] of this.total) {
      const e = extra.get(id);
      put(id, s.n + (e?.n ?? 0), s.s1 + (e?.s1 ?? 0), s.s2 + (e?.s2 ?? 0));
    }
    for (const [id, e] of extra) if (!this.total.has(id)) put(id, e.n, e.s1, e.s2);
    return out;
  }
}
