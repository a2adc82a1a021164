import { expandArgvTemplate, UnsafeArgumentError, validateArgvTemplate, type ArgvPlaceholder } from './argv-template';

const values: Record<ArgvPlaceholder, string> = {
  vm: 'web-01',
  vmId: 'vm-1',
  sourceHost: 'kvm-a',
  sourceHostId: 'h-a',
  targetHost: 'kvm-b',
  targetHostId: 'h-b',
  migrationId: 'm-1',
};

describe('argv templates', () => {
  it('fills placeholders inside arguments without changing the number of arguments', () => {
    expect(expandArgvTemplate(['virsh', 'migrate', '--live', '{vm}', 'qemu+ssh://{targetHost}/system'], values)).toEqual([
      'virsh',
      'migrate',
      '--live',
      'web-01',
      'qemu+ssh://kvm-b/system',
    ]);
    expect(expandArgvTemplate(['tool', '{vm}'], { ...values, vm: 'a b; c' })).toEqual(['tool', 'a b; c']);
  });

  it('expands in one pass: a value that looks like a placeholder stays literal', () => {
    expect(expandArgvTemplate(['tool', '{vm}:{targetHost}'], { ...values, vm: '{targetHost}' })).toEqual(['tool', '{targetHost}:kvm-b']);
  });

  it('refuses values that would turn into options or carry NUL bytes', () => {
    expect(() => expandArgvTemplate(['tool', '{vm}'], { ...values, vm: '-rf' })).toThrow(UnsafeArgumentError);
    expect(() => expandArgvTemplate(['tool', '{vm}'], { ...values, vm: 'a\0b' })).toThrow(UnsafeArgumentError);
    expect(expandArgvTemplate(['tool', '--name={vm}', 'x{vm}'], { ...values, vm: '-rf' })).toEqual(['tool', '--name=-rf', 'x-rf']);
  });

  it('validates templates up front', () => {
    expect(() => validateArgvTemplate(['virsh', 'migrate', '{vm}', '{targetHostId}'])).not.toThrow();
    expect(() => validateArgvTemplate([])).toThrow(/non-empty/);
    expect(() => validateArgvTemplate(['virsh', '{host}'])).toThrow(/unknown placeholder \{host\}/);
    expect(() => validateArgvTemplate(['/opt/{vm}/bin'])).toThrow(/executable/);
  });
});
