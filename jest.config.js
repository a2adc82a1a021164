// Two projects: unit specs beside the code, e2e specs against the real app in test/.
// Specs are transpiled file by file (tsconfig.jest.json: isolatedModules), as the child-process apps are:
// type checking is `npm run typecheck`'s job, once, not every test run's.
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
};
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  transform,
  setupFiles: ['<rootDir>/test/helpers/fast-check-setup.ts'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
