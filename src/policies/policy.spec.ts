import { activeBlackout, localTime } from './policy';

// 2026-11-25 is a Wednesday.
const at = (iso: string) => Date.parse(iso);

describe('blackout windows', () => {
  it('reads the weekday and minute in the policy time zone', () => {
    expect(localTime(at('2026-11-25T23:30:00Z'), 'UTC')).toEqual({ day: 'wed', minute: 23 * 60 + 30 });
    // 23:30 UTC is already Thursday 00:30 in Paris (UTC+1 in November)
    expect(localTime(at('2026-11-25T23:30:00Z'), 'Europe/Paris')).toEqual({ day: 'thu', minute: 30 });
  });

  it('is in force inside a same-day window only on its days', () => {
    const windows = [{ days: ['wed' as const], start: '09:00', end: '17:00' }];
    expect(activeBlackout(windows, at('2026-11-25T09:00:00Z'), 'UTC')).toBe(windows[0]);
    expect(activeBlackout(windows, at('2026-11-25T16:59:00Z'), 'UTC')).toBe(windows[0]);
    expect(activeBlackout(windows, at('2026-11-25T17:00:00Z'), 'UTC')).toBeUndefined();
    expect(activeBlackout(windows, at('2026-11-26T10:00:00Z'), 'UTC')).toBeUndefined();
  });

  it('runs a window ending before it starts past midnight, into the next day', () => {
    const windows = [{ days: ['fri' as const], start: '22:00', end: '06:00' }];
    expect(activeBlackout(windows, at('2026-11-27T23:00:00Z'), 'UTC')).toBe(windows[0]); // Friday night
    expect(activeBlackout(windows, at('2026-11-28T05:59:00Z'), 'UTC')).toBe(windows[0]); // Saturday early
    expect(activeBlackout(windows, at('2026-11-28T06:00:00Z'), 'UTC')).toBeUndefined();
    expect(activeBlackout(windows, at('2026-11-26T23:00:00Z'), 'UTC')).toBeUndefined(); // Thursday night
  });

  it('applies the time zone: 09:00–10:00 in New York is 14:00–15:00 UTC in November', () => {
    const windows = [{ days: ['wed' as const], start: '09:00', end: '10:00' }];
    expect(activeBlackout(windows, at('2026-11-25T14:30:00Z'), 'America/New_York')).toBe(windows[0]);
    expect(activeBlackout(windows, at('2026-11-25T09:30:00Z'), 'America/New_York')).toBeUndefined();
  });
});
