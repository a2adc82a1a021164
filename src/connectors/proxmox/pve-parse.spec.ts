import {
  errorLines,
  haAutoRebalance,
  inventoryNames,
  migrationProgress,
  missingPrivilege,
  parseCrs,
  parseResources,
  parseSize,
  parseTags,
  parseUpid,
  progressPercent,
  proxlbTags,
} from './pve-parse';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

describe('what the Proxmox VE API answers', () => {
  it('splits tags as PVE stores them (";"), and older separators', () => {
    expect(parseTags('plb_pin_pve1;web')).toEqual(['plb_pin_pve1', 'web']);
    expect(parseTags('a,b c')).toEqual(['a', 'b', 'c']);
    expect(parseTags(undefined)).toEqual([]);
  });

  it("reads ProxLB's tags: anti-affinity is not taken for affinity, pins name nodes, ignore is remembered", () => {
    expect(proxlbTags(['plb_anti_affinity_db', 'plb_affinity_web', 'plb_pin_pve2', 'plb_pin_pve3', 'plb_ignore_vm', 'other'])).toEqual({
      affinity: ['web'],
      antiAffinity: ['db'],
      ignore: 'plb_ignore_vm',
      pins: ['pve2', 'pve3'],
    });
    expect(proxlbTags(['plb_affinity_', 'plb_pin_'])).toEqual({ affinity: [], antiAffinity: [], ignore: null, pins: [] });
  });

  it('reads /cluster/resources: nodes online or not, qemu and lxc guests with lock, template, tags and HA state', () => {
    const { nodes, guests } = parseResources([
      { id: 'node/pve1', type: 'node', node: 'pve1', status: 'online', maxcpu: 16 },
      { id: 'node/pve2', type: 'node', node: 'pve2', status: 'offline' },
      { id: 'storage/pve1/local', type: 'storage', node: 'pve1' },
      {
        id: 'qemu/100',
        type: 'qemu',
        vmid: 100,
        name: 'web',
        node: 'pve1',
        status: 'running',
        template: 0,
        cpu: 0.25,
        maxcpu: 4,
        mem: 2 * GIB,
        maxmem: 4 * GIB,
        memhost: 3 * GIB,
        tags: 'a;b',
        hastate: 'started',
      },
      { id: 'lxc/200', type: 'lxc', vmid: 200, node: 'pve1', status: 'stopped', template: 1, lock: 'backup', maxcpu: 1, maxmem: GIB },
    ]);
    expect(nodes).toEqual([
      { name: 'pve1', online: true },
      { name: 'pve2', online: false },
    ]);
    expect(guests).toEqual([
      {
        vmid: 100,
        type: 'qemu',
        name: 'web',
        node: 'pve1',
        status: 'running',
        template: false,
        lock: null,
        tags: ['a', 'b'],
        cpu: 0.25,
        maxcpu: 4,
        mem: 2 * GIB,
        maxmem: 4 * GIB,
        memhost: 3 * GIB,
        hastate: 'started',
      },
      {
        vmid: 200,
        type: 'lxc',
        name: 'ct-200',
        node: 'pve1',
        status: 'stopped',
        template: true,
        lock: 'backup',
        tags: [],
        cpu: 0,
        maxcpu: 1,
        mem: 0,
        maxmem: GIB,
        memhost: null,
        hastate: null,
      },
    ]);
  });

  it('names guests by their PVE name, adding the VMID only where two share one', () => {
    const names = inventoryNames([
      { vmid: 100, name: 'web' },
      { vmid: 101, name: 'web' },
      { vmid: 102, name: 'db' },
    ]);
    expect([...names]).toEqual([
      [100, 'web (100)'],
      [101, 'web (101)'],
      [102, 'db'],
    ]);
  });

  it("reads the datacenter's crs option, parsed or as its property string, and whether HA guests are rebalanced", () => {
    expect(parseCrs({ ha: 'static', 'ha-auto-rebalance': 1 })).toEqual({ ha: 'static', 'ha-auto-rebalance': '1' });
    expect(parseCrs('static,ha-rebalance-on-start=1')).toEqual({ ha: 'static', 'ha-rebalance-on-start': '1' });
    expect(haAutoRebalance(parseCrs('ha=static,ha-auto-rebalance=1'))).toBe(true);
    // Rebalancing when a guest starts is not a balancer running all along.
    expect(haAutoRebalance(parseCrs('ha=static,ha-rebalance-on-start=1'))).toBe(false);
    expect(haAutoRebalance(parseCrs(undefined))).toBe(false);
  });

  it('parses UPIDs', () => {
    expect(parseUpid('UPID:pve1:0000ABCD:00112233:6740A1B2:qmigrate:100:drs@pve!scheduler:')).toEqual({
      node: 'pve1',
      type: 'qmigrate',
      id: '100',
      user: 'drs@pve!scheduler',
    });
    expect(parseUpid('not a upid')).toBeNull();
  });

  it('reads sizes as PVE renders them', () => {
    expect(parseSize('1.5 GiB')).toBe(1.5 * GIB);
    expect(parseSize('512 B')).toBe(512);
    expect(parseSize('12345')).toBe(12345);
    expect(parseSize('fast')).toBeNaN();
  });

  it("follows a live migration's progress through PVE 7+ task log lines", () => {
    const log = [
      '2025-01-04 00:34:29 start migrate command to unix:/run/qemu-server/105.migrate',
      '2025-01-04 00:34:30 migration active, transferred 357.9 MiB of 4.0 GiB VM-state, 586.6 MiB/s',
      '2025-01-04 00:34:32 migration active, transferred 1.0 GiB of 4.0 GiB VM-state, 399.1 MiB/s',
    ];
    const progress = migrationProgress(log);
    expect(progress.memory).toEqual({ done: GIB, total: 4 * GIB });
    expect(progressPercent(progress)).toBe(25);
    const done = migrationProgress(
      [
        '2025-01-04 00:34:39 average migration speed: 409.6 MiB/s - downtime 41 ms',
        '2025-01-04 00:34:39 migration completed, transferred 4.1 GiB VM-state',
        '2025-01-04 00:34:40 migration status: completed',
      ],
      progress,
    );
    expect(progressPercent(done)).toBe(99);
    expect(done.downtimeMs).toBe(41);
  });

  it('reads the byte counts of older PVE versions, and mirrored disks as the first half', () => {
    const old = migrationProgress(['migration status: active (transferred 300, remaining 700), total 1000)']);
    expect(old.memory).toEqual({ done: 300, total: 1000 });
    expect(progressPercent(old)).toBe(30);
    const disks = migrationProgress([
      '2025-11-14 21:40:00 mirror-scsi0: transferred 16.0 GiB of 32.0 GiB (50.00%) in 1m 2s',
      '2025-11-14 21:40:00 drive-scsi1: transferred 32.0 GiB of 32.0 GiB (100.00%) in 2m, ready',
    ]);
    // 48 of 64 GiB of disks: three quarters of the first half.
    expect(progressPercent(disks)).toBe(37);
    const both = migrationProgress(['migration active, transferred 512.0 MiB of 1.0 GiB VM-state, 1.0 GiB/s'], disks);
    expect(both.memory).toEqual({ done: 512 * MIB, total: GIB });
    expect(progressPercent(both)).toBe(62);
  });

  it("picks a failed task's error lines", () => {
    expect(
      errorLines([
        '2025-01-04 00:34:30 migration active, transferred 1.0 GiB of 4.0 GiB VM-state, 1 GiB/s',
        '2025-01-04 00:34:31 ERROR: online migrate failure - interrupted by signal',
        'TASK ERROR: migration problems',
      ]),
    ).toEqual(['online migrate failure - interrupted by signal', 'migration problems']);
  });

  it("names the privilege PVE's permission error says is missing", () => {
    expect(missingPrivilege('Permission check failed (/vms/100, VM.Migrate)')).toBe('VM.Migrate on /vms/100');
    expect(missingPrivilege('Permission check failed')).toBeNull();
  });
});
