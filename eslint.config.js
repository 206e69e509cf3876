import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'data/',
      'node_modules/',
      'bench/results/',
      'coverage/',
      'packages/*/dist/',
      'packages/*/dist.build-*/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.name="parseFloat"]',
          message: 'Money is integer minor units: no parseFloat.',
        },
      ],
    },
  },
  // Type-aware rules on src/ and test/ (they read the TypeScript program, so they only run where tsconfig.json reaches).
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A switch over a union names every member: a new gateway status or outcome kind is a lint error, not a
      // default branch that silently accepts it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // The Stripe emulator is a package of its own: it imports nothing of Settle's (its src/ and test/ are one folder
  // deep, so a path climbing two folders leaves the package), only Node, its dependencies and its own files.
  {
    files: ['packages/stripe-emulator/**/*.ts', 'packages/stripe-emulator/**/*.js'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'settle', message: 'The emulator imports nothing from Settle.' }],
          patterns: [
            {
              regex: '^(\\.\\./){2,}',
              message: 'The emulator imports nothing from Settle: this path leaves packages/stripe-emulator.',
            },
            { regex: '^settle/', message: 'The emulator imports nothing from Settle.' },
            {
              regex: '(^|/)src/(domain|app|store|http|jobs|gateway-adapters|cli)(/|$)',
              message: "The emulator imports nothing from Settle's src/.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/stripe-emulator/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // One owner for SQL: outside src/store/, Settle reads and writes the database only through named functions of
  // src/store/ (the shared rate limiter's one query included: store/rate-limit-grants-repo.ts).
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'kysely', message: 'SQL lives in src/store/: call (or add) a named store function.' }],
          patterns: [{ regex: '^kysely/', message: 'SQL lives in src/store/: call (or add) a named store function.' }],
        },
      ],
      // deps.db reaches Kysely without an import: its query builders are refused by name. (This list replaces the
      // one above for these files, so it repeats the parseFloat rule.)
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.name="parseFloat"]',
          message: 'Money is integer minor units: no parseFloat.',
        },
        {
          selector:
            'CallExpression[callee.property.name=/^(selectFrom|selectNoFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto|executeQuery)$/]',
          message: 'SQL lives in src/store/: call (or add) a named store function.',
        },
      ],
    },
  },
);
