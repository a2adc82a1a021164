import { Test } from '@nestjs/testing';
import { IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsString, Matches, Max, Min } from 'class-validator';
import { loadSettings, Secret, SectionLookup } from './settings';
import { SettingsModule } from './settings.module';
import { ParseBoolean, ParseInt, ParseJson, ParseNumber } from './transforms';

// Sections made up for these tests: the mechanism knows no module's settings.
class WebSettings {
  @ParseInt()
  @IsInt()
  @Min(1)
  @Max(65535)
  SPEC_PORT = 8080;

  @ParseBoolean()
  @IsBoolean()
  SPEC_VERBOSE = false;

  @IsIn(['red', 'green'])
  SPEC_COLOUR: 'red' | 'green' = 'red';
}

class StoreSettings {
  @ParseNumber()
  @IsNumber()
  @Min(0)
  @Max(1)
  SPEC_RATIO = 0.5;

  @ParseJson()
  @IsArray()
  @IsString({ each: true })
  SPEC_LIST: string[] = ['a'];

  @Secret()
  @Matches(/^[a-z]{8}$/, { message: 'SPEC_PASSWORD must be eight small letters' })
  SPEC_PASSWORD = 'abcdefgh';

  /** Green pages need a ratio over one half: a rule across two sections. */
  static crossCheck(lookup: SectionLookup): string[] {
    const web = lookup(WebSettings);
    const store = lookup(StoreSettings)!;
    return web?.SPEC_COLOUR === 'green' && store.SPEC_RATIO <= 0.5
      ? [`SPEC_RATIO=${store.SPEC_RATIO}: SPEC_COLOUR=green needs more than 0.5`]
      : [];
  }
}

class ClashingSettings {
  @IsInt()
  SPEC_PORT = 1;
}

describe('loadSettings', () => {
  it('reads each variable from its text, and gives unset and empty ones their default', () => {
    const [web, store] = loadSettings([WebSettings, StoreSettings], {
      SPEC_PORT: ' 9000 ',
      SPEC_VERBOSE: 'YES',
      SPEC_COLOUR: '',
      SPEC_RATIO: '0.75',
      SPEC_LIST: '["x","y"]',
      PATH: '/usr/bin',
    });
    expect(web).toEqual({ SPEC_PORT: 9000, SPEC_VERBOSE: true, SPEC_COLOUR: 'red' });
    expect(store).toEqual({ SPEC_RATIO: 0.75, SPEC_LIST: ['x', 'y'], SPEC_PASSWORD: 'abcdefgh' });
    expect(web).toBeInstanceOf(WebSettings);
  });

  it('names every bad variable of every section, with its value, in one message', () => {
    const load = () =>
      loadSettings([WebSettings, StoreSettings], { SPEC_PORT: '0', SPEC_VERBOSE: 'sometimes', SPEC_RATIO: 'lots', SPEC_LIST: '[1' });
    expect(load).toThrow(/^Invalid configuration:\n/);
    const lines = messageOf(load).split('\n').slice(1);
    expect(lines).toEqual([
      '  SPEC_PORT=0: SPEC_PORT must not be less than 1',
      '  SPEC_VERBOSE="sometimes": SPEC_VERBOSE must be a boolean value',
      expect.stringMatching(/^ {2}SPEC_RATIO="lots": .*SPEC_RATIO must be a number/),
      expect.stringMatching(/^ {2}SPEC_LIST="\[1": .*SPEC_LIST must be an array/),
    ]);
  });

  it('never repeats the value of a secret variable', () => {
    const message = messageOf(() => loadSettings([StoreSettings], { SPEC_PASSWORD: 'hunter2!' }));
    expect(message).toContain('SPEC_PASSWORD=(hidden): SPEC_PASSWORD must be eight small letters');
    expect(message).not.toContain('hunter2');
  });

  it('runs the checks across sections after all are read, and lists their problems last', () => {
    expect(() => loadSettings([StoreSettings, WebSettings], { SPEC_COLOUR: 'green', SPEC_RATIO: '0.75' })).not.toThrow();
    const message = messageOf(() => loadSettings([StoreSettings, WebSettings], { SPEC_COLOUR: 'green', SPEC_PORT: 'x' }));
    expect(message).toMatch(/SPEC_PORT="x": [^\n]*\n {2}SPEC_RATIO=0.5: SPEC_COLOUR=green needs more than 0.5$/);
    // Without the web section loaded, the check has nothing to compare with.
    expect(() => loadSettings([StoreSettings], { SPEC_COLOUR: 'green' })).not.toThrow();
  });

  it('refuses two sections that declare the same variable, naming both', () => {
    expect(() => loadSettings([WebSettings, ClashingSettings], {})).toThrow(
      'SPEC_PORT is declared by two settings sections, WebSettings and ClashingSettings',
    );
  });
});

describe('SettingsModule', () => {
  afterEach(() => delete process.env.SPEC_PORT);

  it('provides each section under its class, with overrides over the environment', async () => {
    process.env.SPEC_PORT = '7000';
    const both = SettingsModule.forRoot([WebSettings, StoreSettings], { SPEC_RATIO: 0.25 });
    const moduleRef = await Test.createTestingModule({ imports: [both] }).compile();
    expect(moduleRef.get(WebSettings).SPEC_PORT).toBe(7000);
    expect(moduleRef.get(StoreSettings).SPEC_RATIO).toBe(0.25);
    const overridden = await Test.createTestingModule({ imports: [SettingsModule.forRoot([WebSettings], { SPEC_PORT: 7001 })] }).compile();
    expect(overridden.get(WebSettings).SPEC_PORT).toBe(7001);
  });

  it('throws while the app module is being put together, before any provider is made', () => {
    expect(() => SettingsModule.forRoot([WebSettings], { SPEC_PORT: 'none' })).toThrow(/SPEC_PORT="none"/);
  });
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}
