import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // local-aws is the judge: it must share no code with the judged (core and the actions).
    files: ['packages/local-aws/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@aws-containers/core', '@aws-containers/core/*', '**/core/src/**', '**/actions/**'] },
      ],
    },
  },
  {
    // local-kubernetes is a judge too (mounted by local-aws's EKS): it imports nothing from the
    // judged, nor from local-aws (which hands it what it needs through its host interface).
    files: ['packages/local-kubernetes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@aws-containers/core',
            '@aws-containers/core/*',
            '**/core/src/**',
            '**/actions/**',
            '@aws-containers/local-aws',
            '**/local-aws/**',
          ],
        },
      ],
    },
  },
  {
    // local-github judges the GitHub side (comments, deployments) the same way: no shared code.
    files: ['packages/local-github/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@aws-containers/core',
            '@aws-containers/core/*',
            '**/core/src/**',
            '**/actions/**',
            '@aws-containers/local-aws',
            '**/local-aws/**',
          ],
        },
      ],
    },
  },
  {
    files: ['packages/core/**/*.ts', 'actions/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@aws-containers/local-aws',
            '@aws-containers/local-aws/*',
            '**/local-aws/**',
            '@aws-containers/local-kubernetes',
            '**/local-kubernetes/**',
            '@aws-containers/local-github',
            '**/local-github/**',
          ],
        },
      ],
    },
  },
  {
    // Text from outside the workflow must never become a workflow command: actions print through
    // core's info(), which fences every line (packages/core/src/log.ts), never straight to stdout.
    files: ['actions/**/src/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'core',
          property: 'info',
          message: 'Print with info() from @aws-containers/core: it fences outside text.',
        },
        { object: 'console', property: 'log', message: 'Print with info() from @aws-containers/core.' },
        { object: 'stdout', property: 'write', message: 'Print with info() from @aws-containers/core.' },
      ],
    },
  },
);
