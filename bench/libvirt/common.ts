// The libvirt benchmark's sizes, rounds and timings, and its small helpers (exec, sleep, timing, polling).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const HOSTS = 3;
export const GUESTS = Number(process.env.BENCH_LIBVIRT_GUESTS ?? 12);
export const BUSY = Number(process.env.BENCH_LIBVIRT_BUSY ?? 3);
// The Debian cloud kernel does not boot in 64 MiB under TCG here (no console output after minutes); 96 MiB boots in ~14 s.
export const GUEST_MIB = 96;
export const BUSY_DIRTY_MIB = 16;
export const BOOT_CONCURRENCY = Number(process.env.BENCH_LIBVIRT_BOOT_CONCURRENCY ?? 2);
export const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/** The connector asks libvirt to measure dirty rates every third collection (its default): RUNS covers both kinds. */
export const DIRTY_RATE_EVERY = 3;
export const LOOP_SECONDS = 5;
export const SAMPLES_BEFORE_PASS = 4;
export const BALANCE_TIMEOUT_MS = 10 * 60_000;
export const MAX_PASSES = 6;
export const ROUNDS = Number(process.env.BENCH_LIBVIRT_ROUNDS ?? 3);

export const exec = promisify(execFile);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const seconds = (since: number) => (performance.now() - since) / 1000;

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null>, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
