// The per-cluster policy: what the balancer plans with and how the scheduler acts on it.
import { BalancingPolicy, DEFAULT_BALANCING_POLICY } from './balancing-policy';

export const AUTOMATION_LEVELS = ['manual', 'partially-automated', 'fully-automated'] as const;
export type AutomationLevel = (typeof AUTOMATION_LEVELS)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A weekly time range, local to the policy's time zone, in which no balancing migration starts. */
export interface BlackoutWindow {
  days: Weekday[];
  /** "HH:MM", 24-hour; an end before the start runs past midnight. */
  start: string;
  end: string;
}

export interface ClusterPolicy extends BalancingPolicy {
  automationLevel: AutomationLevel;
  passIntervalSeconds: number;
  maxConcurrentPerHost: number;
  maxConcurrentPerCluster: number;
  cooldownSeconds: number;
  blackoutWindows: BlackoutWindow[];
  timeZone: string;
  dryRun: boolean;
}

export const DEFAULT_CLUSTER_POLICY: Readonly<ClusterPolicy> = Object.freeze({
  ...DEFAULT_BALANCING_POLICY,
  automationLevel: 'partially-automated',
  passIntervalSeconds: 300,
  maxConcurrentPerHost: 4,
  maxConcurrentPerCluster: 16,
  cooldownSeconds: 1800,
  blackoutWindows: [],
  timeZone: 'UTC',
  dryRun: false,
});

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Weekday and minute of the day at `epochMs` in `timeZone`. */
export function localTime(epochMs: number, timeZone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epochMs));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return { day: get('weekday').toLowerCase().slice(0, 3) as Weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** The window in force at `epochMs`, if any. A window crossing midnight belongs to the day it starts. */
export function activeBlackout(windows: BlackoutWindow[], epochMs: number, timeZone: string): BlackoutWindow | undefined {
  const { day, minute } = localTime(epochMs, timeZone);
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7];
  return windows.find((w) => {
    const start = minutesOf(w.start);
    const end = minutesOf(w.end);
    if (start <= end) return w.days.includes(day) && minute >= start && minute < end;
    return (w.days.includes(day) && minute >= start) || (w.days.includes(yesterday) && minute < end);
  });
}
