import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkConnectorConfig, isProblems, libvirtAuthConf, libvirtAuthFile, removeStaleAuthFiles } from './connector-kinds';

const host = (name: string, uri = `qemu+tcp://10.0.0.${name.length}/system`) => ({ name, uri });
const fields = (result: ReturnType<typeof checkConnectorConfig>) => (isProblems(result) ? result.map((p) => p.field) : []);

describe('connector configuration per kind', () => {
  it('accepts libvirt hosts and keeps only what it knows', () => {
    const result = checkConnectorConfig(
      'libvirt',
      { hosts: [host('kvm-01'), { ...host('kvm-2'), migrationAddress: '10.1.0.2' }] },
      { username: 'drs', password: 's3cret' },
    );
    expect(isProblems(result)).toBe(false);
    expect(result).toEqual({
      settings: { hosts: [host('kvm-01'), { ...host('kvm-2'), migrationAddress: '10.1.0.2' }] },
      credentials: { username: 'drs', password: 's3cret' },
    });
    expect(checkConnectorConfig('libvirt', { hosts: [host('a')] }, undefined)).toEqual({ settings: { hosts: [host('a')] } });
  });

  it('names kind when the platform is unknown', () => {
    const result = checkConnectorConfig('vmware', { hosts: [host('a')] }, undefined);
    expect(fields(result)).toEqual(['kind']);
    expect((result as { message: string }[])[0].message).toMatch(/kind must be one of: libvirt/);
    // an inherited name is no kind either
    expect(fields(checkConnectorConfig('toString', {}, undefined))).toEqual(['kind']);
  });

  it('names the host and field libvirt would refuse, from the body root', () => {
    expect(fields(checkConnectorConfig('libvirt', { hosts: [host('a'), { name: 'b', uri: 'http://b/system' }] }, undefined))).toEqual([
      'settings.hosts.1.uri',
    ]);
    expect(fields(checkConnectorConfig('libvirt', { hosts: [host('a'), host('a')] }, undefined))).toEqual(['settings.hosts.1.name']);
    expect(
      fields(checkConnectorConfig('libvirt', { hosts: [{ name: 'x', uri: 'qemu+tcp://h/system', migrationAddress: 'a b' }] }, undefined)),
    ).toEqual(['settings.hosts.0.migrationAddress']);
    expect(fields(checkConnectorConfig('libvirt', { hosts: [] }, undefined))).toEqual(['settings.hosts']);
    expect(fields(checkConnectorConfig('libvirt', { hosts: 'h1' }, undefined))).toEqual(['settings.hosts']);
    expect(fields(checkConnectorConfig('libvirt', { hosts: [host('a'), 7, { name: 'c' }] }, undefined))).toEqual([
      'settings.hosts.1',
      'settings.hosts.2.uri',
    ]);
    expect(fields(checkConnectorConfig('libvirt', { hosts: [{ ...host('a'), port: 22 }], extra: 1 }, undefined))).toEqual([
      'settings.extra',
      'settings.hosts.0.port',
    ]);
  });

  it('takes a bandwidth cap and a time limit for the migrations, as whole numbers in range, naming a bad one', () => {
    const settings = { hosts: [host('a')], migrationBandwidthMibPerSecond: 200, migrationTimeLimitSeconds: 900 };
    expect(checkConnectorConfig('libvirt', settings, undefined)).toEqual({ settings });
    expect(
      fields(
        checkConnectorConfig(
          'libvirt',
          { hosts: [host('a')], migrationBandwidthMibPerSecond: 0, migrationTimeLimitSeconds: 1.5 },
          undefined,
        ),
      ),
    ).toEqual(['settings.migrationBandwidthMibPerSecond', 'settings.migrationTimeLimitSeconds']);
    expect(fields(checkConnectorConfig('libvirt', { hosts: [host('a')], migrationBandwidthMibPerSecond: '100' }, undefined))).toEqual([
      'settings.migrationBandwidthMibPerSecond',
    ]);
  });

  it('names bad credential fields without repeating their values', () => {
    const result = checkConnectorConfig('libvirt', { hosts: [host('a')] }, { username: 'drs', password: 'line1\nline2', token: 'abc' });
    expect(fields(result)).toEqual(['credentials.token', 'credentials.password']);
    expect(JSON.stringify(result)).not.toContain('line1');
    expect(fields(checkConnectorConfig('libvirt', { hosts: [host('a')] }, 'user:pass'))).toEqual(['credentials']);
  });

  it('hands libvirt the credentials in an auth file only its owner reads, escaped as GLib reads them back, gone on dispose', () => {
    expect(libvirtAuthConf({ username: 'drs', password: ' a\\b ' })).toBe(
      '[credentials-drs]\nauthname=drs\nusername=drs\npassword=\\sa\\\\b\\s\n\n[auth-libvirt-default]\ncredentials=drs\n',
    );
    const auth = libvirtAuthFile({ username: 'drs', password: 'pw' });
    const file = auth.env.LIBVIRT_AUTH_FILE;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o077).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('password=pw\n');
    auth.dispose();
    expect(existsSync(dirname(file))).toBe(false);
  });

  it("removes the auth folders a process that died left behind (a crash cannot dispose), never a live process's", () => {
    const parent = mkdtempSync(join(tmpdir(), 'drs-auth-spec-'));
    try {
      const deadPid = spawnSync('true').pid;
      const started = ownStartTime();
      const stale = [
        `drs-libvirt-auth-${deadPid}-${started}-aB12cD`,
        // this process's id, but another start time: a process that ran under the same id before
        `drs-libvirt-auth-${process.pid}-${started + 1}-mN78oP`,
        // named before the start time was added
        `drs-libvirt-auth-${deadPid}-qR90sT`,
      ];
      const kept = [
        `drs-libvirt-auth-${process.pid}-${started}-eF34gH`,
        `drs-libvirt-auth-${process.pid}-123456`,
        'drs-libvirt-auth-iJ56kL',
      ];
      for (const name of [...stale, ...kept]) {
        mkdirSync(join(parent, name));
        writeFileSync(join(parent, name, 'auth.conf'), 'password=old\n');
      }
      const auth = libvirtAuthFile({ username: 'drs', password: 'pw' }, parent);
      const own = basename(dirname(auth.env.LIBVIRT_AUTH_FILE));
      expect(readdirSync(parent).sort()).toEqual([own, ...kept].sort());
      expect(own).toMatch(new RegExp(`^drs-libvirt-auth-${process.pid}-${started}-[A-Za-z0-9]{6}$`));
      auth.dispose();
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('a missing temporary directory sweeps nothing', () => {
    expect(removeStaleAuthFiles(join(tmpdir(), 'drs-auth-spec-missing', 'none'))).toEqual([]);
  });
});

/** Field 22 of /proc/self/stat: when this process started, in clock ticks after boot. */
function ownStartTime(): number {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}
