import { describeProblem, nextHealth } from './connector-health';

const down = (host: string, error = 'connection refused') => ({ host, error });

describe('connector health', () => {
  it('stays unknown until a loop reports, then turns ok without an event', () => {
    expect(nextHealth('unknown', {})).toEqual({ state: 'unknown', lastError: null, transition: null });
    expect(nextHealth('unknown', { collect: [] })).toEqual({ state: 'ok', lastError: null, transition: null });
  });

  it('goes degraded once, naming every host in trouble, and stays so without another event', () => {
    const first = nextHealth('ok', { sync: [down('h1')], collect: [] });
    expect(first).toEqual({ state: 'degraded', lastError: 'h1: connection refused', transition: 'degraded' });
    const again = nextHealth('degraded', { sync: [down('h1')], collect: [down('h1', 'timed out'), down('h2')] });
    expect(again.state).toBe('degraded');
    expect(again.transition).toBeNull();
    expect(again.lastError).toBe('h1: connection refused; h2: connection refused');
    // from a fresh start too
    expect(nextHealth('unknown', { sync: [down('h0')] }).transition).toBe('degraded');
  });

  it('recovers only when neither loop still sees a host down', () => {
    expect(nextHealth('degraded', { sync: [], collect: [down('h1')] })).toMatchObject({ state: 'degraded', transition: null });
    expect(nextHealth('degraded', { sync: [], collect: [] })).toEqual({ state: 'ok', lastError: null, transition: 'recovered' });
  });

  it('names each host once, also when the error already starts with it', () => {
    const health = nextHealth('ok', { sync: [down('h0', 'h0: virsh nodeinfo: authentication failed'), down('h1', 'h10 is down')] });
    expect(health.lastError).toBe('h0: virsh nodeinfo: authentication failed; h1: h10 is down');
    expect(describeProblem(down('connector', 'hosts: at least one host is needed'))).toBe('connector: hosts: at least one host is needed');
  });

  it('keeps the stored error within its column', () => {
    const many = Array.from({ length: 100 }, (_, i) => down(`host-${i}`, 'x'.repeat(50)));
    const health = nextHealth('ok', { sync: many });
    expect(health.lastError!.length).toBeLessThanOrEqual(2000);
    expect(health.lastError).toMatch(/^host-0: x+; host-1: /);
  });
});
