import { migrateArgs } from './migration-decisions';

describe('migrateArgs', () => {
  it('a live, peer-to-peer, persistent move with named options and the data stream to the migration address', () => {
    expect(migrateArgs('web-1', 'qemu+tcp://10.0.0.6/system', '10.1.0.6', null)).toEqual([
      'migrate',
      '--live',
      '--p2p',
      '--persistent',
      '--undefinesource',
      '--domain',
      'web-1',
      '--desturi',
      'qemu+tcp://10.0.0.6/system',
      '--migrateuri',
      'tcp://10.1.0.6',
    ]);
  });

  it('brackets an IPv6 migration address and passes a bandwidth cap', () => {
    const argv = migrateArgs('db', 'qemu+ssh://kvm-2/system', 'fd00::6', 50);
    expect(argv.slice(-4)).toEqual(['--migrateuri', 'tcp://[fd00::6]', '--bandwidth', '50']);
  });
});
