// @ts-check
// Formatting of fractions, times, durations and errors for display.
import { ApiError, serverNow } from './api.js';

export const pct = (/** @type {number} */ fraction) => `${(fraction * 100).toFixed(1)} %`;
export const clock = (/** @type {number} */ ms) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** How long ago `ms` was on the service's clock, or the local date and time once it is more than a day. */
export function ago(/** @type {number} */ ms) {
  const seconds = Math.max(0, (serverNow() - ms) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
}

/** @param {number | null | undefined} seconds */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** @param {unknown} error */
export function describe(error) {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
