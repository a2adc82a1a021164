// Two projects: unit specs beside the code, e2e specs against the real app in test/.
// Specs are transpiled file by file (tsconfig.jest.json: isolatedModules), as the child-process apps are:
// type checking is `npm run typecheck`'s job, once, not every test run's.
const { availableParallelism } = require('node:os');

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
};
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  // The node environment, plus the lock that gives `@machine exclusive` specs the machine to themselves.
  testEnvironment: '<rootDir>/test/helpers/machine-lock-environment.js',
  transform,
  setupFiles: ['<rootDir>/test/helpers/fast-check-setup.ts'],
  // Math from the outer context, looked up once: inside jest's sandbox every Math call went through a slow path
  // (jestjs/jest#5163): Math.abs, max, sqrt 15–40× slower than in node, and the planner's property specs
  // 5–10× slower than the code they test (planner.property.spec 147 s, 11 s with this).
  sandboxInjectedGlobals: ['Math'],
};
module.exports = {
  // Jest's default leaves a core free, which on CI's two cores runs the suite serially, most of it waiting on
  // timers and child processes. Two workers, and no more: the specs that share the machine are checked with two at
  // once; those that assert a speed have it to themselves, first (see test/helpers/machine-lock-environment.js).
  maxWorkers: Math.max(1, Math.min(2, availableParallelism())),
  testSequencer: '<rootDir>/test/helpers/exclusive-first-sequencer.js',
  // On PostgreSQL (TEST_DATABASE_URL): the run's tag for its databases, and those left dropped at the end.
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts', '<rootDir>/test/fixtures/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/helpers/e2e-timeout.ts'],
    },
  ],
};
