// The vSphere benchmark's sizes and timings, its polling and timing helpers, and what it counts per call (Series,
// Traffic).

export const HOSTS = 32;
export const VMS = 1_000;
export const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** discover() and collect() calls per connector after its first discovery. */
export const REPEATS = 3;
/** The service's sync and collection intervals: the time to "every VM sampled" includes waiting for the next collection. */
export const LOOP_SECONDS = Number(process.env.BENCH_VSPHERE_LOOP_SECONDS ?? 2);
export const POLL_MS = 100;
export const SETTLE_TIMEOUT_MS = 10 * 60_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const ms = (since: number) => performance.now() - since;

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: ms(started), value };
}

export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null | false>, everyMs = POLL_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** What one kind of call cost: its times, and the SOAP calls and response bytes of its last occurrence. */
export class Series {
  readonly times: number[] = [];
  calls = 0;
  bytes = 0;
  add(ms: number, traffic: Traffic): void {
    this.times.push(ms);
    this.calls = traffic.calls;
    this.bytes = traffic.bytes;
  }
}

/** SOAP responses seen by a client since the last reset (VimClient's onResponse: bodies only, never a request). */
export class Traffic {
  calls = 0;
  bytes = 0;
  reset(): this {
    this.calls = 0;
    this.bytes = 0;
    return this;
  }
  snapshot(): Traffic {
    return Object.assign(new Traffic(), { calls: this.calls, bytes: this.bytes });
  }
}
