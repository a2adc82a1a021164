import { isHostAddress } from '../../common/host-address';
import { assertNoShell, hostArgument, isVmIdentifier, shellOf } from './placeholder-grammar';

describe('host addresses', () => {
  it.each([
    'kvm-01',
    'kvm-01.example.net',
    'a.b-c.d',
    'xn--bcher-kva.example',
    '192.0.2.10',
    '0.0.0.0',
    '255.255.255.255',
    '2001:db8::7',
    '[2001:db8::7]',
    '::1',
    '[::ffff:192.0.2.1]',
    `${'a'.repeat(63)}.example`,
  ])('accepts %j', (value) => {
    expect(isHostAddress(value)).toBe(true);
  });

  it.each([
    ['evil.example/system?socket=/tmp/x#', 'a path and a query'],
    ['kvm-b.example:2222', 'a port'],
    ['root@kvm-b.example', 'a user'],
    ['kvm-b.example#frag', 'a fragment'],
    ['kvm b', 'a space'],
    ['kvm-b\n', 'a control character'],
    ['kvm-b.example\u0000', 'a NUL byte'],
    ['-oProxyCommand=id', 'a leading hyphen (an ssh option)'],
    ['kvm-.example', 'a label ending in a hyphen'],
    ['kvm..example', 'an empty label'],
    ['kvm-b.example.', 'a trailing dot'],
    [`${'a'.repeat(64)}.example`, 'a label of 64 characters'],
    [`${'abc.'.repeat(64)}com`, 'more than 253 characters'],
    ['1.2.3', 'an all-numeric name that resolvers read as IPv4'],
    ['010.0.0.1', 'an IPv4 address with a leading zero (octal to inet_aton)'],
    ['256.1.1.1', 'an IPv4 octet above 255'],
    ['[2001:db8::7', 'an unclosed bracket'],
    ['fe80::1%eth0', 'an IPv6 zone id'],
    ['[::1]:22', 'an IPv6 address with a port'],
    ['kvm_b', 'an underscore'],
    ['kvm-b.example/', 'a slash'],
    ['', 'nothing'],
  ])('refuses %j (%s)', (value) => {
    expect(isHostAddress(value)).toBe(false);
  });

  it('fills {targetHost} with the address, or the name when there is no address and the name is one', () => {
    expect(hostArgument({ name: 'Rack 4', address: '192.0.2.4' })).toBe('192.0.2.4');
    expect(hostArgument({ name: 'kvm-4.example', address: null })).toBe('kvm-4.example');
    expect(hostArgument({ name: 'kvm-4.example' })).toBe('kvm-4.example');
    expect(hostArgument({ name: 'evil.example/system?socket=/tmp/x#', address: null })).toBeNull();
    // A bad stored address is not replaced by the name: the operator set it on purpose.
    expect(hostArgument({ name: 'kvm-4.example', address: 'kvm-4.example:22' })).toBeNull();
  });
});

describe('VM identifiers for {vm}', () => {
  it.each(['web-01', 'db_2.prod', 'A', '0f8fad5b-d9cb-469f-a165-70867728950e', `v${'x'.repeat(127)}`])('accepts %j', (name) => {
    expect(isVmIdentifier(name)).toBe(true);
  });

  it.each(['$(id -u)', '`id`', 'a b', 'x;y', '-rf', '.hidden', '_x', 'a/b', 'a\nb', 'caf\u00e9', '', `v${'x'.repeat(128)}`, '{vm}'])(
    'refuses %j',
    (name) => {
      expect(isVmIdentifier(name)).toBe(false);
    },
  );
});

describe('shell templates', () => {
  it.each([
    [['sh', '-c', 'echo {vm} > file'], 'sh'],
    [['/bin/bash', '-c', 'virsh migrate {vm}'], 'bash'],
    [['/usr/bin/dash', 'script.sh', '{vm}'], 'dash'],
    [['zsh'], 'zsh'],
    [['ksh93', '-c', 'x'], 'ksh'],
    [['mksh'], 'mksh'],
    [['fish', '-c', 'x'], 'fish'],
    [['busybox', 'sh', '-c', 'x'], 'busybox'],
    [['BASH.EXE'], 'bash'],
    [['bash5.2'], 'bash'],
    [['env', 'sh', '-c', 'x'], 'sh'],
    [['/usr/bin/env', '-i', 'PATH=/bin', 'bash', '-c', 'x'], 'bash'],
    [['env', '-u', 'HOME', '--chdir', '/tmp', '--', 'sh', '-c', 'x'], 'sh'],
    [['env', '--unset=HOME', '-C/tmp', 'sh'], 'sh'],
    [['env', '-S', 'sh -c x'], 'sh'],
    [['env', '-iS', 'bash -c x'], 'bash'],
    [['env', '--split-string=zsh -c x'], 'zsh'],
    [['env', 'env', 'sh'], 'sh'],
    [['nice', '-n', '5', 'sh', '-c', 'x'], 'sh'],
    [['timeout', '600', 'bash', '-c', 'x'], 'bash'],
    [['sudo', '-u', 'libvirt', 'sh', '-c', 'x'], 'sh'],
  ])('finds the shell in %j', (argv, shell) => {
    expect(shellOf(argv)).toBe(shell);
  });

  it.each([
    [['virsh', 'migrate', '--live', '{vm}', 'qemu+ssh://{targetHost}/system']],
    [['/usr/local/bin/migrate-vm', '{vm}', '{targetHost}']],
    [['env', 'LIBVIRT_DEFAULT_URI=qemu:///system', 'virsh', 'migrate', '{vm}']],
    [['env', '-u', 'sh', 'virsh']],
    [['timeout', '600', 'qm', 'migrate', '{vmId}', '{targetHost}']],
    [['shasum']],
    [['bashful-tool']],
  ])('finds no shell in %j', (argv) => {
    expect(shellOf(argv)).toBeNull();
  });

  it('refuses a shell template with a message, unless allowed', () => {
    expect(() => assertNoShell(['sh', '-c', 'echo {vm}'], 'MIGRATION_COMMAND', false)).toThrow(
      /MIGRATION_COMMAND runs the shell "sh".*ALLOW_SHELL=true/,
    );
    expect(() => assertNoShell(['sh', '-c', 'echo {vm}'], 'MIGRATION_COMMAND', true)).not.toThrow();
    expect(() => assertNoShell(['virsh', 'migrate', '{vm}'], 'MIGRATION_COMMAND', false)).not.toThrow();
  });
});
