import { ServerSettings } from '../common/server.settings';
import { loadSettings } from '../config/settings';
import { LiveMigrationSettings } from '../live-migration/live-migration.settings';
import { SimulatorSettings } from './simulator.settings';

const COMMAND = JSON.stringify(['virsh', 'migrate', '--live', '{vm}', 'qemu+ssh://{targetHost}/system']);
const load = (raw: Record<string, unknown>) => loadSettings([ServerSettings, SimulatorSettings, LiveMigrationSettings], raw);

describe('SimulatorSettings: the demo', () => {
  it('refuses to start the demo with a driver that moves real VMs, whether the demo is on by default or by choice', () => {
    expect(() => load({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND })).toThrow(
      /DEMO_ENABLED=true: .*runs only with MIGRATION_DRIVER=simulated; set DEMO_ENABLED=false/,
    );
    expect(() => load({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND, DEMO_ENABLED: 'true' })).toThrow(/DEMO_ENABLED=true/);
  });

  it('starts a real driver without the demo, and the demo with the simulated driver', () => {
    const [, realDemo, realMigration] = load({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND, DEMO_ENABLED: 'false' });
    expect(realMigration.MIGRATION_DRIVER).toBe('command');
    expect(realDemo.DEMO_ENABLED).toBe(false);
    const [, demo, migration] = load({});
    expect(demo.DEMO_ENABLED).toBe(true);
    expect(migration.MIGRATION_DRIVER).toBe('simulated');
  });

  it('lists the demo problem with the other bad variables in one message', () => {
    expect(() => load({ MIGRATION_DRIVER: 'command', MIGRATION_COMMAND: COMMAND, PORT: 'abc' })).toThrow(
      /PORT="abc"[\s\S]*DEMO_ENABLED=true/,
    );
  });

  it('leaves the demo alone where no migration driver is configured (a CLI that loads only its own settings)', () => {
    const [demo] = loadSettings([SimulatorSettings], { MIGRATION_DRIVER: 'command', DEMO_ENABLED: 'yes' });
    expect(demo.DEMO_ENABLED).toBe(true);
  });
});
