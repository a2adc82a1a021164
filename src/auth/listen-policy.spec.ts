import { hostName, hostRefusal, parseAllowedHosts } from './listen-policy';

describe('Host check', () => {
  it('reads the name of a Host header without its port', () => {
    expect(['localhost', 'LocalHost:3000', '127.0.0.1:80', '[::1]', '[::1]:3000', ' drs.example.org:8443 '].map(hostName)).toEqual([
      'localhost',
      'localhost',
      '127.0.0.1',
      '[::1]',
      '[::1]',
      'drs.example.org',
    ]);
    for (const bad of [undefined, '', '::1', 'a b', 'localhost:', 'localhost:99999x', 'user@localhost', '[::1'])
      expect(hostName(bad)).toBeUndefined();
  });

  it('in open mode serves the loopback names only', () => {
    const none = new Set<string>();
    for (const ok of ['localhost', 'localhost:3000', '127.0.0.1', '127.0.0.1:3000', '[::1]', '[::1]:3000'])
      expect(hostRefusal(ok, true, none)).toBeUndefined();
    for (const bad of [
      'attacker.example',
      'localhost.attacker.example',
      '127.0.0.1.nip.io',
      '127.0.0.2',
      '0.0.0.0',
      '[::2]',
      undefined,
      'localhost.',
    ]) {
      expect(hostRefusal(bad, true, none)).toMatch(/answers only to localhost, 127\.0\.0\.1 or \[::1\]/);
    }
    // ALLOWED_HOSTS does not widen open mode
    expect(hostRefusal('drs.example.org', true, parseAllowedHosts('drs.example.org'))).toBeDefined();
  });

  it('with tokens serves any name, or only those of ALLOWED_HOSTS when it lists some', () => {
    expect(hostRefusal('attacker.example', false, parseAllowedHosts(''))).toBeUndefined();
    const allowed = parseAllowedHosts(' DRS.example.org , 10.0.0.5,::1,[fe80::1],');
    expect([...allowed]).toEqual(['drs.example.org', '10.0.0.5', '[::1]', '[fe80::1]']);
    for (const ok of ['drs.example.org', 'drs.example.org:443', '10.0.0.5:3000', '[::1]:3000', '[FE80::1]'])
      expect(hostRefusal(ok, false, allowed)).toBeUndefined();
    for (const bad of ['localhost', 'example.org', 'drs.example.org.evil', undefined])
      expect(hostRefusal(bad, false, allowed)).toMatch(/ALLOWED_HOSTS/);
  });
});
