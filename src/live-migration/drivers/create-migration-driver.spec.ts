import { CommandMigrationDriver } from './command-driver';
import { createMigrationDriver } from './create-migration-driver';
import type { MigrationJob } from './migration-driver';
import { SimulatedMigrationDriver } from './simulated-driver';

const job: MigrationJob = {
  migrationId: 'm-1',
  vm: { id: 'vm-1', name: 'db-01', memoryMib: 1024 },
  source: { id: 'h-1', name: 'a', migrationGbps: 10 },
  target: { id: 'h-2', name: 'b', migrationGbps: 10 },
  bandwidthMibPerSecond: () => 1000,
};

describe('createMigrationDriver', () => {
  it('defaults to the simulated driver', () => {
    const driver = createMigrationDriver();
    expect(driver).toBeInstanceOf(SimulatedMigrationDriver);
    expect(driver.name).toBe('simulated');
  });

  it('passes the simulation settings through', async () => {
    const driver = createMigrationDriver({ timeScale: 1e6, failVmNames: new Set(['db-01']) });
    const outcome = await driver.migrate(job, new AbortController().signal, () => {});
    expect(outcome).toMatchObject({ status: 'failed', transient: true });
  });

  it('builds the command driver, which needs a migrate template', () => {
    expect(() => createMigrationDriver({ driver: 'command' })).toThrow(/command.migrate/);
    const driver = createMigrationDriver({
      driver: 'command',
      command: { migrate: ['virsh', 'migrate', '--live', '{vm}', 'qemu+ssh://{targetHost}/system'] },
    });
    expect(driver).toBeInstanceOf(CommandMigrationDriver);
    expect(driver.name).toBe('command');
  });

  it('stops the boot on a bad setting', () => {
    expect(() => createMigrationDriver({ driver: 'vmotion' as never })).toThrow(/unknown migration driver/);
    expect(() => createMigrationDriver({ timeScale: -1 })).toThrow(/timeScale/);
    expect(() => createMigrationDriver({ driver: 'command', command: { migrate: ['virsh', '{domain}'] } })).toThrow(/placeholder/);
    expect(() => createMigrationDriver({ driver: 'command', command: { migrate: ['virsh'], timeoutSeconds: 0 } })).toThrow(
      /timeoutSeconds/,
    );
  });
});

describe('createMigrationDriver with settings left undefined', () => {
  it('keeps the defaults instead of failing', () => {
    expect(createMigrationDriver({ driver: undefined, timeScale: undefined, failVmNames: undefined })).toBeInstanceOf(
      SimulatedMigrationDriver,
    );
    expect(() =>
      createMigrationDriver({ driver: 'command', command: { migrate: ['virsh'], timeoutSeconds: undefined, killSignal: undefined } }),
    ).not.toThrow();
    expect(() => createMigrationDriver({ driver: 'command', command: { migrate: ['virsh'], killSignal: 'SIGNOPE' as never } })).toThrow(
      /unknown signal/,
    );
  });
});
