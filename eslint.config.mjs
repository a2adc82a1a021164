// Lint rules for the whole repository (`npm run lint`, zero warnings). TypeScript is linted with type information
// (typescript-eslint's recommendedTypeChecked): the checks that matter most here (floating promises, misused
// promises in Nest hooks and timers) need it. Formatting is Prettier's job, so eslint-config-prettier comes last.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NO_UNSAFE_ANY_OFF = Object.fromEntries(
  ['no-unsafe-argument', 'no-unsafe-assignment', 'no-unsafe-call', 'no-unsafe-member-access', 'no-unsafe-return'].map((rule) => [
    `@typescript-eslint/${rule}`,
    'off',
  ]),
);

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', 'data/', 'bench/results/', 'test-results/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a parameter or binding kept on purpose; `{ a, ...rest }` is how a property is left out.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `async` on a method that implements a Promise-returning interface (drivers, repositories, their fakes) turns a
      // throw into a rejection, which is what callers handle; without an await the rule would ask for Promise.resolve().
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests and benchmarks are clients of the JSON API: they read its answers as `any` (supertest's `body` is) and check
    // them with expect() or by failing the run, which a cast to a declared shape would only pretend to do.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: NO_UNSAFE_ANY_OFF,
  },
  {
    // Node scripts outside any tsconfig: checked without type information.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ignores: ['src/dashboard/public/**'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // CommonJS scripts run by npm and jest before any TypeScript is compiled: require() is their import.
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['src/dashboard/public/**'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard's browser modules: plain JavaScript with JSDoc types, type-checked by their own tsconfig.
    files: ['src/dashboard/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
    // The page types the API's JSON answers as `any` in JSDoc on purpose (see api.js): it renders what the service sends.
    rules: NO_UNSAFE_ANY_OFF,
  },
  prettier,
);
