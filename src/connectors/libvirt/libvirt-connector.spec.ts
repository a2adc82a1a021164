import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorError } from '../connector';
import { discoveredVms, LibvirtConnector, sampleOf, uriHost, validateHosts } from './libvirt-connector';
import { parseDomStats, parseUuidNameList } from './virsh-parse';

const stats = (name: string) => parseDomStats(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));

describe('libvirt connector settings', () => {
  it('takes the migration address from the URI when none is given', () => {
    expect(uriHost('qemu+ssh://root@kvm-01.example.net:2222/system?keyfile=/k')).toBe('kvm-01.example.net');
    expect(uriHost('qemu+tcp://10.213.0.2/system')).toBe('10.213.0.2');
    expect(uriHost('qemu+tls://[fd00::2]/system')).toBe('fd00::2');
    expect(uriHost('qemu:///system')).toBeNull();
  });

  it('refuses what a virsh call could not use, naming the field', () => {
    const refusal = (hosts: Parameters<typeof validateHosts>[0]) => {
      try {
        validateHosts(hosts);
        return null;
      } catch (error) {
        expect(error).toBeInstanceOf(ConnectorError);
        expect((error as ConnectorError).reason).toBe('invalid-settings');
        return (error as ConnectorError).message;
      }
    };
    expect(refusal([])).toContain('at least one host');
    expect(refusal([{ name: 'a', uri: 'http://a/' }])).toContain('hosts[0].uri');
    expect(
      refusal([
        { name: 'a', uri: 'qemu+tcp://a/system' },
        { name: 'a', uri: 'qemu+tcp://b/system' },
      ]),
    ).toContain('hosts[1].name');
    // a local URI names no host to send migration data to
    expect(refusal([{ name: 'a', uri: 'qemu:///system' }])).toContain('hosts[0].migrationAddress');
    expect(refusal([{ name: 'a', uri: 'qemu+tcp://a/system', migrationAddress: 'tcp://evil/x' }])).toContain('hosts[0].migrationAddress');
    expect(
      refusal([
        { name: 'a', uri: 'qemu:///system', migrationAddress: '10.0.0.5' },
        { name: 'b', uri: 'qemu+ssh://b/system' },
      ]),
    ).toBeNull();
  });

  it('a host whose virsh cannot run is reported unreachable in discovery, by name, and locate throws for it', async () => {
    const connector = new LibvirtConnector([{ name: 'h0', uri: 'qemu+tcp://127.0.0.1/system' }], {
      virsh: { virshPath: '/nonexistent/virsh' },
    });
    const discovery = await connector.discover();
    expect(discovery.hosts).toEqual([]);
    expect(discovery.unreachable).toEqual([{ host: 'h0', error: expect.stringContaining('h0: virsh is not installed') }]);
    await expect(connector.locate('g1')).rejects.toMatchObject({ host: 'h0' });
  });
});

describe('sampleOf', () => {
  // The same guest read twice on a 2095 MHz host: cpu.time 6280000000 then 6320000000 ns.
  const earlier = stats('domstats-busy.txt')[0];
  const later = stats('domstats-all-h0.txt')[1];

  it('CPU MHz is CPU time used over wall time, times the MHz of one host CPU', () => {
    // 40 ms of CPU in 500 ms = 0.08 of a CPU = 167.6 MHz
    const sample = sampleOf('h0', 2095, later, 10_500, { cpuTimeNs: earlier.cpuTimeNs!, atMs: 10_000 });
    expect(sample).toMatchObject({ vmName: 'busy1', hostName: 'h0', timestamp: 10_500, cpuMhz: 168 });
  });

  it('memory: consumed capped at the guest size (QEMU rss 227.7 MiB > 128), active = current - unused', () => {
    const sample = sampleOf('h0', 2095, later, 10_500, { cpuTimeNs: earlier.cpuTimeNs!, atMs: 10_000 })!;
    expect(sample.memoryConsumedMib).toBe(128);
    // 131072 - 34284 KiB = 96788 KiB = 94.5 MiB
    expect(sample.memoryActiveMib).toBe(95);
    expect(sample.memoryDirtyMibPerSecond).toBeUndefined();
  });

  it('without guest statistics, active is what the guest consumes', () => {
    const idle = stats('domstats-idle.txt')[0];
    const sample = sampleOf('h1', 2095, idle, 2000, { cpuTimeNs: idle.cpuTimeNs! - 1_000_000_000, atMs: 1000 })!;
    // 1 s of CPU in 1 s: one whole host CPU
    expect(sample.cpuMhz).toBe(2095);
    expect(sample).toMatchObject({ memoryConsumedMib: 64, memoryActiveMib: 64 });
  });

  it('no sample for a first sight, a restarted guest (CPU time went back) or no time elapsed', () => {
    expect(sampleOf('h0', 2095, later, 10_500, undefined)).toBeNull();
    expect(sampleOf('h0', 2095, earlier, 10_500, { cpuTimeNs: later.cpuTimeNs!, atMs: 10_000 })).toBeNull();
    expect(sampleOf('h0', 2095, later, 10_000, { cpuTimeNs: earlier.cpuTimeNs!, atMs: 10_000 })).toBeNull();
  });

  it('carries a finished dirty-rate measurement', () => {
    const measured = { ...later, dirtyRateMibPerSecond: stats('domstats-dirtyrate.txt')[0].dirtyRateMibPerSecond };
    expect(sampleOf('h0', 2095, measured, 10_500, { cpuTimeNs: earlier.cpuTimeNs!, atMs: 10_000 })?.memoryDirtyMibPerSecond).toBe(32);
  });
});

describe('discoveredVms', () => {
  const listed = parseUuidNameList(readFileSync(join(__dirname, 'fixtures', 'list-all-uuid-name.txt'), 'utf8'));

  it('a guest seen on two hosts mid-migration is reported once, on the host that runs it, whatever the host order', () => {
    const running = { host: 'h0', listed, stats: stats('domstats-busy.txt') };
    const incoming = { host: 'h1', listed, stats: stats('domstats-incoming.txt') };
    for (const order of [
      [running, incoming],
      [incoming, running],
    ]) {
      expect(discoveredVms(order)).toEqual([
        { externalId: '03008692-480d-4dae-bea4-78bae9fa0f7c', name: 'busy1', vcpus: 1, memoryMib: 128, power: 'running', host: 'h0' },
      ]);
    }
  });

  it('only domains both listed and with statistics are reported (the rest changed between the two calls); shut-off ones are stopped', () => {
    const h0 = {
      host: 'h0',
      listed: parseUuidNameList(readFileSync(join(__dirname, 'fixtures', 'list-all-uuid-name-shutoff.txt'), 'utf8')),
      stats: stats('domstats-all-h0.txt'),
    };
    expect(discoveredVms([h0])).toEqual([
      { externalId: '62bfbdfe-55c2-4ef2-b5ed-0ad6cb33982c', name: 'off1', vcpus: 1, memoryMib: 64, power: 'stopped', host: 'h0' },
    ]);
  });
});
