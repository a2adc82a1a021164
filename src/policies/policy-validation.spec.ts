import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { DomainError } from '../common/domain-error';
import { resolvePolicy } from './policies.service';
import { DEFAULT_CLUSTER_POLICY } from './policy';
import { PutClusterPolicyDto } from './policy.dto';

/** The fields class-validator rejects, as the API would name them. */
function rejected(body: Record<string, unknown>): string[] {
  const errors = validateSync(plainToInstance(PutClusterPolicyDto, body), { whitelist: true, forbidNonWhitelisted: true });
  const fields: string[] = [];
  const walk = (list: typeof errors, prefix: string) =>
    list.forEach((e) => {
      const field = prefix ? `${prefix}.${e.property}` : e.property;
      if (e.constraints) fields.push(field);
      walk(e.children ?? [], field);
    });
  walk(errors, '');
  return fields;
}

describe('cluster policy validation', () => {
  it('accepts an empty policy, which is all defaults', () => {
    expect(rejected({})).toEqual([]);
    expect(resolvePolicy({})).toEqual(DEFAULT_CLUSTER_POLICY);
  });

  it('accepts a full, sensible policy', () => {
    expect(
      rejected({
        automationLevel: 'fully-automated',
        migrationThreshold: 4,
        cpuWeight: 0.7,
        memoryWeight: 0.3,
        demandStatistic: 'p80',
        demandWindowSeconds: 600,
        passIntervalSeconds: 60,
        cooldownSeconds: 0,
        blackoutWindows: [{ days: ['sat', 'sun'], start: '22:00', end: '06:00' }],
        timeZone: 'Europe/Paris',
        dryRun: true,
      }),
    ).toEqual([]);
  });

  it.each([
    [{ automationLevel: 'yolo' }, 'automationLevel'],
    [{ migrationThreshold: 0 }, 'migrationThreshold'],
    [{ migrationThreshold: 6 }, 'migrationThreshold'],
    [{ migrationThreshold: 2.5 }, 'migrationThreshold'],
    [{ passIntervalSeconds: 5 }, 'passIntervalSeconds'],
    [{ cpuWeight: 1.5 }, 'cpuWeight'],
    [{ memoryCeiling: 3 }, 'memoryCeiling'],
    [{ demandStatistic: 'median' }, 'demandStatistic'],
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ dryRun: 'yes' }, 'dryRun'],
    [{ automationLevel: null }, 'automationLevel'],
    [{ blackoutWindows: [{ days: ['funday'], start: '22:00', end: '06:00' }] }, 'blackoutWindows.0.days'],
    [{ blackoutWindows: [{ days: ['mon'], start: '25:00', end: '06:00' }] }, 'blackoutWindows.0.start'],
    [{ blackoutWindows: [{ days: [], start: '01:00', end: '02:00' }] }, 'blackoutWindows.0.days'],
    [{ aggressiveness: 11 }, 'aggressiveness'],
  ])('rejects %j naming %s', (body, field) => {
    expect(rejected(body)).toContain(field);
  });

  it('derives the other weight when only one is given, and refuses weights that do not add up to 1', () => {
    expect(resolvePolicy({ cpuWeight: 0.8 })).toMatchObject({ cpuWeight: 0.8, memoryWeight: expect.closeTo(0.2, 10) });
    expect(() => resolvePolicy({ cpuWeight: 0.8, memoryWeight: 0.8 })).toThrow(DomainError);
  });

  it('puts what-if overrides over the stored policy, and the stored policy over the defaults', () => {
    const policy = resolvePolicy({ migrationThreshold: 4, automationLevel: 'manual' }, { migrationThreshold: 5 });
    expect(policy).toMatchObject({ migrationThreshold: 5, automationLevel: 'manual', passIntervalSeconds: 300 });
  });
});
