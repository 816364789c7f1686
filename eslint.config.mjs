// Flat ESLint config. The Nx module-boundary rule is what keeps services from importing each other:
// services may depend on libs and contracts; libs never on services; nothing on e2e code.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** The Nx boundary rule; `allow` lists import paths exempt from it. */
const boundaries = (allow) => [
  'error',
  {
    enforceBuildableLibDependency: true,
    allow,
    depConstraints: [
      { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:contract'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contract'] },
      { sourceTag: 'type:contract', onlyDependOnLibsWithTags: ['type:contract'] },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:contract'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    ],
  },
];

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.cache/**', '**/.tessera/**', '**/gen/**', '**/generated/**', '**/.nx/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries([]),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  // @tessera/testing (free ports, throwaway databases, polling) is test support: production code never imports it.
  {
    files: ['libs/*/src/**/*.ts', 'services/*/src/**/*.ts', 'tools/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@tessera/testing', message: 'test support only: import it from specs and test/ folders, never from production code' },
          ],
        },
      ],
    },
  },
  // The bench drives the platform through the local infrastructure CLI's own modules (LocalServices, topology,
  // /proc helpers) rather than a copy of them; infra/local is tooling, not a project, so it is allowed by path.
  {
    files: ['bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(['../../infra/local/*', '../../../infra/local/*']) },
  },
];
