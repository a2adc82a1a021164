import { seededRandom } from '../balancer/core';
import { BucketCpuSums, keptSpan, SWING_BUCKET_MS, SwingLedger, VmCpuSums } from './swing-ledger';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Sample {
  vm: string;
  t: number;
  cpu: number;
}

/** Population σ by two passes over the values, as a reader would work it out. */
function sigma(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / values.length);
}

/** What the database answers for the kept buckets in [from, to). */
function bucketRows(samples: Sample[], from: number, to: number): BucketCpuSums[] {
  const rows = new Map<string, BucketCpuSums>();
  for (const s of samples) {
    if (s.t < from || s.t >= to) continue;
    const bucket = Math.floor(s.t / SWING_BUCKET_MS) * SWING_BUCKET_MS;
    const key = `${s.vm} ${bucket}`;
    const row = rows.get(key) ?? { subjectId: s.vm, bucket, n: 0, s1: 0, s2: 0 };
    row.n++;
    row.s1 += s.cpu;
    row.s2 += s.cpu * s.cpu;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** What it answers for the samples outside them: after `after` and before `before`, and from `from` on. */
function edgeRows(samples: Sample[], after: number, before: number, from: number): VmCpuSums[] {
  const rows = new Map<string, VmCpuSums>();
  for (const s of samples) {
    if (!((s.t > after && s.t < before) || s.t >= from)) continue;
    const row = rows.get(s.vm) ?? { subjectId: s.vm, n: 0, s1: 0, s2: 0 };
    row.n++;
    row.s1 += s.cpu;
    row.s2 += s.cpu * s.cpu;
    rows.set(s.vm, row);
  }
  return [...rows.values()];
}

/** One estimate at `now`, as DemandService makes it: slide the ledger, then read what it does not keep. */
function slide(ledger: SwingLedger, samples: Sample[], now: number, swingMs: number): Map<string, number> {
  const swingSince = now - swingMs;
  const { from, to } = keptSpan(swingSince, now);
  ledger.dropBefore(from);
  if (to > ledger.to) ledger.extend(bucketRows(samples, ledger.to, to), to);
  return ledger.sigmas(edgeRows(samples, swingSince, ledger.from, ledger.to));
}

describe('keptSpan', () => {
  it('keeps the whole buckets inside the window that ended at least a bucket ago', () => {
    // Window (1,000,000, 11,900,000]: the first bucket boundary after its start is 4 × 300,000; the last
    // bucket to keep ends at or before now − 300,000 = 11,600,000, at 38 × 300,000.
    expect(keptSpan(1_000_000, 11_900_000)).toEqual({ from: 1_200_000, to: 11_400_000 });
  });

  it('starts after the start of the window even on a bucket boundary: the start is exclusive', () => {
    expect(keptSpan(1_200_000, 11_900_000)).toEqual({ from: 1_500_000, to: 11_400_000 });
  });

  it('keeps nothing when the window is too short to hold a settled bucket', () => {
    expect(keptSpan(1_000_000, 1_400_000)).toEqual({ from: 1_200_000, to: 1_200_000 });
  });
});

describe('SwingLedger', () => {
  it('gives each VM the σ of exactly the samples in its swing window as the window slides', () => {
    // Three VMs report every 20 s for 7 hours (one skips every fifth tick); estimates every 5 minutes,
    // with some a little off the pass rhythm, over a 3-hour swing window.
    const random = seededRandom(7);
    const start = 1_700_000_000_000 + 12_345;
    const samples: Sample[] = [];
    for (let t = start; t < start + 7 * HOUR; t += 20_000) {
      for (const vm of ['a', 'b', 'c']) {
        if (vm === 'c' && Math.round((t - start) / 20_000) % 5 === 0) continue;
        samples.push({ vm, t, cpu: Math.round(1000 + 4000 * random()) });
      }
    }
    const swingMs = 3 * HOUR;
    const ledger = new SwingLedger(start, keptSpan(start - swingMs, start).from);
    let checked = 0;
    for (let now = start + 5 * MINUTE; now < start + 7 * HOUR; now += checked % 7 === 3 ? 61_000 : 5 * MINUTE) {
      const known = samples.filter((s) => s.t <= now);
      const got = slide(ledger, known, now, swingMs);
      for (const vm of ['a', 'b', 'c']) {
        const inWindow = known.filter((s) => s.vm === vm && s.t > now - swingMs).map((s) => s.cpu);
        expect(got.get(vm)).toBeCloseTo(sigma(inWindow), 6);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(70);
    // After the first 3 hours the window is full, and most of it was read once, from the kept buckets.
    expect(ledger.to - ledger.from).toBeGreaterThanOrEqual(swingMs - 2 * SWING_BUCKET_MS);
  });

  it('agrees on bucket boundaries too: samples and estimates on the 5-minute marks', () => {
    const random = seededRandom(11);
    const start = 1_700_000_100_000; // a multiple of 5 minutes
    const samples: Sample[] = [];
    for (let t = start; t < start + 5 * HOUR; t += 5 * MINUTE) samples.push({ vm: 'a', t, cpu: Math.round(1000 + 4000 * random()) });
    const swingMs = 3 * HOUR;
    const ledger = new SwingLedger(start, keptSpan(start - swingMs, start).from);
    for (let now = start + 5 * MINUTE; now < start + 5 * HOUR; now += 5 * MINUTE) {
      const known = samples.filter((s) => s.t <= now);
      // The sample stamped exactly 3 hours before now is not in the window.
      const inWindow = known.filter((s) => s.t > now - swingMs).map((s) => s.cpu);
      expect(slide(ledger, known, now, swingMs).get('a')).toBeCloseTo(sigma(inWindow), 6);
    }
  });

  it('forgets a VM once all its samples have left the window', () => {
    const start = 1_700_000_000_000;
    const samples: Sample[] = [
      { vm: 'gone', t: start, cpu: 1000 },
      { vm: 'gone', t: start + MINUTE, cpu: 3000 },
      { vm: 'stays', t: start + 2 * HOUR, cpu: 2000 },
      { vm: 'stays', t: start + 2 * HOUR + MINUTE, cpu: 4000 },
    ];
    const ledger = new SwingLedger(start, keptSpan(start - HOUR, start).from);
    const early = slide(ledger, samples, start + 2 * HOUR + 10 * MINUTE, 3 * HOUR);
    expect(early.get('gone')).toBeCloseTo(1000, 9);
    expect(early.get('stays')).toBeCloseTo(1000, 9);
    const late = slide(ledger, samples, start + 3 * HOUR + 5 * MINUTE, 3 * HOUR);
    expect(late.has('gone')).toBe(false);
    expect(late.get('stays')).toBeCloseTo(1000, 9);
  });

  it('counts the buckets being read as kept, so a late sample written meanwhile is seen as late', () => {
    const ledger = new SwingLedger(10 * HOUR, 7 * HOUR);
    expect(ledger.claimedTo).toBe(7 * HOUR);
    ledger.claim(9 * HOUR);
    expect(ledger.to).toBe(7 * HOUR);
    expect(ledger.claimedTo).toBe(9 * HOUR);
    ledger.extend([], 9 * HOUR);
    expect(ledger.to).toBe(9 * HOUR);
  });

  it('is read afresh when it is 30 minutes old, or when the clock goes back', () => {
    const ledger = new SwingLedger(10 * HOUR, 7 * HOUR);
    expect(ledger.servesAt(10 * HOUR + 29 * MINUTE, 7 * HOUR)).toBe(true);
    expect(ledger.servesAt(10 * HOUR + 30 * MINUTE, 7 * HOUR)).toBe(false);
    expect(ledger.servesAt(10 * HOUR - MINUTE, 7 * HOUR)).toBe(false);
    // A window that starts before what the ledger kept (the clock went back) cannot be served either.
    expect(ledger.servesAt(10 * HOUR + MINUTE, 7 * HOUR - SWING_BUCKET_MS)).toBe(false);
  });
});
