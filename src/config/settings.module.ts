import { DynamicModule, Module } from '@nestjs/common';
import { loadSettings, SettingsSection } from './settings';

/**
 * Validates the sections it is given when the app module is built, before anything is created or
 * listens, and provides each one's values under its class: a service injects `SamplesSettings`.
 */
@Module({})
export class SettingsModule {
  /** `overrides` win over the environment: tests pass a temporary database path this way. */
  static forRoot(sections: readonly SettingsSection[], overrides: Record<string, unknown> = {}): DynamicModule {
    // The validated values are never written back into process.env, so that apps built one after
    // another in one process (as tests do) never see each other's settings.
    const values = loadSettings(sections, { ...process.env, ...overrides });
    return {
      module: SettingsModule,
      global: true,
      providers: sections.map((section, i) => ({ provide: section, useValue: values[i] })),
      exports: [...sections],
    };
  }
}
