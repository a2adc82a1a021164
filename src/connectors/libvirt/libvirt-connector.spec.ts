import { ConnectorError } from '../connector';
import { LibvirtConnector, uriHost, validateHosts } from './libvirt-connector';

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
