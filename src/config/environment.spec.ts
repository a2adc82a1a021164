import { validateEnvironment } from './environment';

const COMMAND = JSON.stringify(['virsh', 'migrate', '--live', '{vm}', 'qemu+ssh://{targetHost}/system']);

describe('validateEnvironment: the demo', () => {
  it('refuses to start the demo with a driver that moves real VMs, whether the demo is on by default or by choice', () => {
    expect(() => validateEnvironment({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND })).toThrow(
      /DEMO_ENABLED=true: .*runs only with MIGRATION_DRIVER=simulated; set DEMO_ENABLED=false/,
    );
    expect(() => validateEnvironment({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND, DEMO_ENABLED: 'true' })).toThrow(/DEMO_ENABLED=true/);
  });

  it('starts a real driver without the demo, and the demo with the simulated driver', () => {
    const real = validateEnvironment({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND, DEMO_ENABLED: 'false' });
    expect(real.MIGRATION_DRIVER).toBe('command');
    expect(real.DEMO_ENABLED).toBe(false);
    const demo = validateEnvironment({});
    expect(demo.DEMO_ENABLED).toBe(true);
    expect(demo.MIGRATION_DRIVER).toBe('simulated');
  });

  it('lists the demo problem with the other bad variables in one message', () => {
    expect(() => validateEnvironment({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND, PORT: 'abc' })).toThrow(/PORT="abc"[\s\S]*DEMO_ENABLED=true/);
  });
});
